-- MLflow's model version stages (None, Staging, Production, Archived),
-- which switchyard maps onto rollouts: the stage a version was last
-- transitioned to, as MLflow's registry reads it back. Versions that
-- were never transitioned, or not recorded at all, are in stage None.

ALTER TABLE model_versions ADD COLUMN current_stage TEXT NOT NULL DEFAULT 'None';
