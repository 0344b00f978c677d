"""Sales: leads, opportunities (sales projects) with their phases and project groups, the pipeline."""
