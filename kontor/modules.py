"""The one list of Kontor's modules. Bootstrap, the API's routers, the tables Alembic sees, the
number series, the settings and the tests' clean-up are all derived from it: a new business area
is its package (kernel.module.Module in its `module.py`), its API router file(s) and one line
here. The order is the order of the API's routes."""
from __future__ import annotations

from domain.accounting.module import MODULE as ACCOUNTING
from domain.accounts import MODULE as ACCOUNTS
from domain.catalog.module import MODULE as CATALOG
from domain.customers.module import MODULE as CUSTOMERS
from domain.demo_operations import MODULE as DEMO
from domain.dunning.module import MODULE as DUNNING
from domain.einvoicing.module import MODULE as EINVOICING
from domain.invoicing.module import MODULE as INVOICING
from domain.letters.module import MODULE as LETTERS
from domain.offers.module import MODULE as OFFERS
from domain.orders.module import MODULE as ORDERS
from domain.payments.module import MODULE as PAYMENTS
from domain.records import MODULE as RECORDS
from domain.sales.module import MODULE as SALES
from kernel.module import Module, check_modules
from mailers.module import MODULE as MAIL
from runtime.module import MODULE as PROCESSES

MODULES: tuple[Module, ...] = (ACCOUNTS, PROCESSES, CUSTOMERS, SALES, CATALOG, RECORDS, MAIL, LETTERS, OFFERS,
                               ORDERS, EINVOICING, INVOICING, PAYMENTS, DUNNING, ACCOUNTING, DEMO)
check_modules(MODULES)
