"""Running the fleet: the poller that watches every server, and the operator's lifecycle actions."""
