-- Where a span's cost comes from: the data states it (1), or it was computed from the
-- tokens and a price entry (2), whose id is kept so a cost can be traced to its price and
-- repriced when the price file changes. NULL when the span has no cost.
ALTER TABLE spans ADD COLUMN cost_source INTEGER;
ALTER TABLE spans ADD COLUMN price_ref TEXT;
-- Rows written before this migration keep NULL: whether their cost was stated or computed
-- was not recorded. A recompute treats them as computed when they carry tokens.
