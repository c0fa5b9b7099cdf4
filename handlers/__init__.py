"""Pure handlers, one module per concern; each turns an Event into a Plan."""
