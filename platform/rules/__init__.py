"""Rules in the running platform: the write-pipeline hook, actions, traces, timed rules."""
