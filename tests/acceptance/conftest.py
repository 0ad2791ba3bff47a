"""Fixtures of the acceptance stories: the CRM world (``crm_world``) on each database
under test, built once per database kind through the HTTP API like everything else; each
story gets a copy of that database and new clients holding the people's tokens."""

from crm_world import world_fixtures

database_url, world = world_fixtures("zh-CN")
