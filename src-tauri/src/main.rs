fn main() {
    sightline_app::run()
}
