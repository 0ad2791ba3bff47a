"""The inbox: people see their tasks, act on one (a flow task drives its flow) and hand open work
over when they leave. Above flows and tasks, which know nothing of it."""
