"""An app version compiled and ready to run, and its conditions compiled to SQL: below records,
security and rules, which all read it."""
