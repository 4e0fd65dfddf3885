"""Dexcom Share glucose readings, without Home Assistant: a library the integration builds on.

Nothing here imports Home Assistant (a check in `scripts/test` says so): the Share
client, the poll planner, the reading history, the report, the sensor session, the
alert engine and the glucose profile's drawing work on plain data and datetimes.
"""
