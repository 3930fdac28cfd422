fn main() {
    sightline_app::configure_webkit_env();
    sightline_app::run()
}
