"""Tasks (to-dos and, with the flow engine, approvals) and the timers that remind and
escalate them."""
