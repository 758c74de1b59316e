REFERENCE_ROUTES = {"agencies:port", "port-detail", "agency-detail"}
