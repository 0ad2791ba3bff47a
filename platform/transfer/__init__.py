"""Import and export: spreadsheets in through the write pipeline, lists out as files."""
