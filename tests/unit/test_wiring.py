"""common/wiring.py: providers find the siblings their service names for them."""
import pytest
from nameko.containers import ServiceContainer
from nameko.extensions import DependencyProvider

from common.wiring import sibling


class Store(DependencyProvider):
    pass


class Desk(DependencyProvider):
    def __init__(self, store):
        self.store = store


class Shop:
    name = "shop"
    main_store = Store()
    spare_store = Store()
    desk = Desk(store="spare_store")


@pytest.fixture
def shop():
    """A container of Shop, bound but not started (providers hold it by weak reference)."""
    return ServiceContainer(Shop, config={"AMQP_URI": "memory://"})


def bound(container, attr_name):
    return next(dep for dep in container.dependencies if dep.attr_name == attr_name)


def test_a_provider_gets_the_sibling_it_names_not_just_any_of_that_kind(shop):
    desk = bound(shop, "desk")
    found = sibling(desk, desk.store, Store)
    assert found.attr_name == "spare_store" and found.container is desk.container


def test_a_missing_sibling_is_named_in_the_error(shop):
    desk = bound(shop, "desk")
    with pytest.raises(LookupError, match="shop has no dependency 'back_room'"):
        sibling(desk, "back_room", Store)


def test_a_sibling_of_the_wrong_kind_is_refused(shop):
    desk = bound(shop, "desk")
    with pytest.raises(TypeError, match="shop.desk is a Desk, not the Store"):
        sibling(desk, "desk", Store)
