"""Field values: what a person or a client sent, read into the typed value a field holds
(``coercion``), and numbers and dates as people write them (``written``). Used by the API,
forms, imports and the query engine."""
