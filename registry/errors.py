"""The services' refusals, in a module that imports nothing: value modules that models import
(transfers.values) subclass them while the apps are still loading. registry.services re-exports them."""


class ServiceError(Exception):
    """A refusal the user can act on. The message says exactly what is wrong; nothing changed."""


class ServiceConflict(ServiceError):
    """A refusal because the object is not, or no longer, in the state the request needs (decided
    already, or changed meanwhile): the request as it is can no longer succeed (the API's 409, where
    another refusal of a rule is a 422)."""
