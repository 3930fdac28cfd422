-- The cost and latency views read LLM and tool calls by time and aggregate a few narrow
-- columns. The spans table rows carry their attributes (JSON, often kilobytes), so a scan
-- reads the whole table; this partial index holds just the calls' narrow columns, so cost
-- per model per hour over a million spans reads a tenth of the bytes. Queries must repeat
-- the index's WHERE term for SQLite to use it.
CREATE INDEX spans_calls ON spans (
    kind, start_ns, end_ns, status, model, provider, tool_name,
    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
    cost, cost_source, trace_ref, parent_span_id
) WHERE kind IN (2, 3) OR cost IS NOT NULL;
