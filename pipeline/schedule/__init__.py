"""The daemon: APScheduler jobs that collect, compose, send and release embargoes."""
