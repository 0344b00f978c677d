"""Kontor's one settings class, composed from the sections its packages declare.

Every package declares the settings it uses next to its code (kernel/settings.py has the core and
the machinery, then runtime/, mailers/, domain/, domain/offers/, api/, flows/), and code below this
package is annotated with its own section. Here they are put together into `Settings`: one class,
one KONTOR_ environment namespace, the names as they always were. Because `Settings` inherits every
section, the one instance bootstrap() reads is what every layer receives.

To add a section (a new business module's), add its class to SECTIONS; compose_settings refuses a
variable that two sections declare."""
from __future__ import annotations

from api.settings import ApiSettings
from domain.login_settings import LoginSettings
from domain.offers.settings import OfferSettings
from domain.settings import CompanySettings
from flows.settings import WorkerSettings
from kernel.settings import (KNOWN_WEAK_SECRETS, REPO_ROOT, CoreSettings, SettingsSection, compose_settings,
                             declared_fields, sections_of)
from mailers.settings import MailboxConfig, MailSettings
from runtime.settings import RuntimeSettings

# Lower layers first; a section another one builds on (CoreSettings under RuntimeSettings, say) may
# be listed or not: compose_settings keeps each once.
SECTIONS: tuple[type[SettingsSection], ...] = (
    CoreSettings, RuntimeSettings, MailSettings, CompanySettings, LoginSettings, OfferSettings,
    ApiSettings, WorkerSettings)

Settings = compose_settings(*SECTIONS, name="Settings", module=__name__)

__all__ = ["KNOWN_WEAK_SECRETS", "REPO_ROOT", "SECTIONS", "MailboxConfig", "Settings", "compose_settings",
           "declared_fields", "sections_of"]
