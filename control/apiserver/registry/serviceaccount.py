"""ServiceAccounts (core/v1): the identities pods run as; every namespace has `default`."""

from control.apiserver.registry.base import Strategy

strategy = Strategy()
