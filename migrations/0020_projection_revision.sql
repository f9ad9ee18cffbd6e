-- A revision per tier and key row: every write takes the next value of one sequence while it holds
-- the row (its lock, or for a new tier its name), and the change is published with it. The gateways'
-- projection keeps the highest revision it applied per row, so when two control planes (or two
-- requests of one) publish the changes of one row in the other order than they committed, the
-- older change is ignored instead of overwriting the newer one.
-- One sequence for both tables: a tier deleted and created again gets a higher revision than its
-- deletion, and revisions never repeat.

CREATE SEQUENCE projection_revision AS bigint;

ALTER TABLE tiers ADD COLUMN revision bigint NOT NULL DEFAULT nextval('projection_revision');
ALTER TABLE api_keys ADD COLUMN revision bigint NOT NULL DEFAULT nextval('projection_revision');
