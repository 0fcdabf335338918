"""The built-in sandbox CRM: a SQLite file with the shapes of a real CRM, its data generator, word lists and
simulated traffic. Production code never reads its word lists; it draws from validate.vocabularies."""
