"""Explicit wiring between the dependency providers of one service.

nameko binds a fresh copy of every provider to each container, so a provider cannot
hold a Python reference to a sibling declared beside it on the service class. It takes
the sibling's attribute name instead, and `sibling` finds that one when the container
sets the provider up. The service class is then the one place that shows what uses what:

    class MaterialsService(ServiceBase):
        database = PackageDatabase()
        storage = ImageStorage()
        relay = OutboxRelay(["packages"], database="database")   # publishes its outboxes
        use_cases = MaterialsUseCases(database="database", storage="storage", live="live")

A name that is missing, or names a provider of the wrong kind, stops the service at
start instead of failing its first request."""


def sibling(provider, attr_name, kind):
    """The provider bound as `attr_name` on `provider`'s own service; it must be a `kind`."""
    for dep in provider.container.dependencies:
        if dep.attr_name == attr_name:
            if not isinstance(dep, kind):
                raise TypeError(f"{provider.container.service_name}.{attr_name} is a "
                                f"{type(dep).__name__}, not the {kind.__name__} "
                                f"{type(provider).__name__} needs")
            return dep
    raise LookupError(f"{provider.container.service_name} has no dependency {attr_name!r} "
                      f"({type(provider).__name__} needs a {kind.__name__} there)")
