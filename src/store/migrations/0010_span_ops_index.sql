-- Latency per operation or kind, and the derived span series (`sightline_spans_total`, the
-- duration histogram) read every span's end time, kind, name and status. Span rows carry
-- their attributes (JSON, often kilobytes), so without this index each of those reads scans
-- the whole table; with it they read these narrow columns only, and the time range of the
-- spans (min and max end) is two index lookups.
CREATE INDEX spans_ops ON spans (end_ns, kind, name, status, start_ns);
