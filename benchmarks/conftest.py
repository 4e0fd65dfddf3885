"""The simulator fixture and custom-integration loading, shared with the tests."""

from tests.conftest import auto_enable_custom_integrations, share

__all__ = ["auto_enable_custom_integrations", "share"]
