"""Kontor's one settings class, composed from the sections its parts declare.

Every module declares the settings it uses next to its code, as its section
(kernel.module.Module.settings: runtime/, mailers/, domain/ and each business module), the kernel
holds the core section and the machinery (kernel/settings.py), and the wiring the sections of how
the processes are served (kontor/serving.py: the API and the worker loop). Code below this package
is annotated with its own section. Here they are put together into `Settings`: one class, one
KONTOR_ environment namespace, the names as they always were. Because `Settings` inherits every
section, the one instance bootstrap() reads is what every layer receives. A new module's section
comes with its line in kontor/modules.py; compose_settings refuses a variable two sections declare."""
from __future__ import annotations

from kernel.settings import (
                             KNOWN_WEAK_SECRETS,
                             REPO_ROOT,
                             CoreSettings,
                             SettingsSection,
                             compose_settings,
                             declared_fields,
                             sections_of,
)
from kontor.modules import MODULES
from kontor.serving import ApiSettings, WorkerSettings
from mailers.settings import MailboxConfig

SECTIONS: tuple[type[SettingsSection], ...] = (
    CoreSettings, *(module.settings for module in MODULES if module.settings is not None), ApiSettings, WorkerSettings)

Settings = compose_settings(*SECTIONS, name="Settings", module=__name__)

__all__ = ["KNOWN_WEAK_SECRETS", "REPO_ROOT", "SECTIONS", "MailboxConfig", "Settings", "compose_settings",
           "declared_fields", "sections_of"]
