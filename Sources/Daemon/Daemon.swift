// The pipeline.
