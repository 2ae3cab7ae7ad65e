"""The HTTP gateway: answers the BBB API for many tenants and routes meetings to BBB servers."""
