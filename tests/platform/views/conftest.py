"""Fixtures of the views and forms tests: the CRM world (``crm_world``), as in the
acceptance stories, with everyone reading English."""

from crm_world import world_fixtures

database_url, world = world_fixtures("en")
