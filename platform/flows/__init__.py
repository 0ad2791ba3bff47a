"""Flows in the running platform: instances, tasks, the pipeline hook."""
