"""`kontor user ...`: the administration of users on the command line. Each command calls the same
domain functions as the API's /users (domain.user_admin), as the actor "cli"."""
from __future__ import annotations

import secrets
import sys
from collections.abc import Callable

from kontor.settings import Settings


def _run(settings: Settings, work: Callable) -> int:
    """`work(session)` in one transaction; a refusal is printed (field by field), not a traceback."""
    from kernel.errors import KontorError
    from kontor.bootstrap import bootstrap

    kontor = bootstrap(settings, deploy=False)
    try:
        with kontor.transaction() as session:
            for line in work(session):
                print(line)
    except KontorError as exc:
        print(f"kontor: {exc.message}", file=sys.stderr)
        for detail in exc.details:
            print(f"  {detail.get('field')}: {detail.get('message')}", file=sys.stderr)
        return 1
    finally:
        kontor.dispose()
    return 0


def _groups(text: str) -> tuple[str, ...]:
    return tuple(g for g in text.split(",") if g.strip())


def _one_time_password() -> str:
    return secrets.token_urlsafe(12)


def cmd_add(settings: Settings, args) -> int:
    from domain.user_admin import CLI, NewUser, create_user

    one_time = args.password is None
    password = _one_time_password() if one_time else args.password

    def work(session):
        create_user(session, CLI, NewUser(username=args.name, password=password, groups=_groups(args.groups),
                                          full_name=args.full_name, email=args.email, phone=args.phone,
                                          customer=args.customer, one_time_password=one_time))
        yield f"user {args.name} added with groups {args.groups}" + (f" for customer {args.customer}"
                                                                    if args.customer else "")
        if one_time:
            yield f"one-time password (to be changed at the first login): {password}"
    return _run(settings, work)


def cmd_list(settings: Settings, args) -> int:
    from domain.user_admin import CLI, UserFilter, customer_numbers, list_users
    from kernel.listing import PageRequest

    def work(session):
        wanted = UserFilter(group=args.group, active=None if args.inactive else True, q=args.search,
                            customer_id=None)
        users, total = list_users(session, CLI, wanted, PageRequest("username", limit=10_000))
        numbers = customer_numbers(session, {u.customer_id for u in users if u.customer_id})
        yield f"{'user':<24} {'groups':<32} {'customer':<10} {'state':<8} name, e-mail"
        for user in users:
            yield (f"{user.username:<24} {','.join(user.groups or []):<32} "
                   f"{numbers.get(user.customer_id, '-'):<10} {'active' if user.active else 'inactive':<8} "
                   f"{user.full_name or '-'}, {user.email or '-'}")
        yield f"{total} user{'s' if total != 1 else ''}"
    return _run(settings, work)


def cmd_set_groups(settings: Settings, args) -> int:
    from domain.user_admin import CLI, set_groups, user_by_name

    def work(session):
        user = set_groups(session, CLI, user_by_name(session, args.name), list(_groups(args.groups)))
        yield f"user {user.username} now has the groups {','.join(user.groups)}"
    return _run(settings, work)


def cmd_deactivate(settings: Settings, args) -> int:
    from domain.user_admin import CLI, deactivate, user_by_name

    def work(session):
        deactivate(session, CLI, user_by_name(session, args.name))
        yield f"user {args.name} deactivated: no login, every token of theirs ended"
    return _run(settings, work)


def cmd_reactivate(settings: Settings, args) -> int:
    from domain.user_admin import CLI, reactivate, user_by_name

    def work(session):
        reactivate(session, CLI, user_by_name(session, args.name))
        yield f"user {args.name} active again"
    return _run(settings, work)


def cmd_reset_password(settings: Settings, args) -> int:
    from domain.user_admin import CLI, set_one_time_password, user_by_name

    password = args.password or _one_time_password()

    def work(session):
        set_one_time_password(session, CLI, user_by_name(session, args.name), password)
        yield f"one-time password of {args.name} (to be changed at the next login): {password}"
    return _run(settings, work)


def add_parser(sub) -> None:
    """The `user` command and its subcommands, on the `kontor` parser's subparsers."""
    user = sub.add_parser("user", help="manage users").add_subparsers(dest="user_command", required=True)
    add = user.add_parser("add", help="add a user")
    add.add_argument("name")
    add.add_argument("--password", default=None,
                     help="the user's password; left out: a one-time password is made and printed, to be "
                          "changed at the first login")
    add.add_argument("--groups", default="sales", help="comma-separated roles and lanes, e.g. sales,approver")
    add.add_argument("--customer", default=None,
                     help="portal users: the customer they belong to, by number (V-000012) or id")
    add.add_argument("--full-name", default=None)
    add.add_argument("--email", default=None)
    add.add_argument("--phone", default=None)
    add.set_defaults(func=cmd_add)
    listing = user.add_parser("list", help="list the active users (with --inactive: the deactivated ones too)")
    listing.add_argument("--group", default=None, help="only members of this group")
    listing.add_argument("--inactive", action="store_true", help="deactivated users too")
    listing.add_argument("--search", default=None, help="text in the user name, name or e-mail")
    listing.set_defaults(func=cmd_list)
    groups = user.add_parser("set-groups", help="replace a user's groups")
    groups.add_argument("name")
    groups.add_argument("groups", help="comma-separated, e.g. sales,approver")
    groups.set_defaults(func=cmd_set_groups)
    for name, func, text in (("deactivate", cmd_deactivate, "no more logins; every token of the user ends"),
                             ("reactivate", cmd_reactivate, "the user may log in again")):
        command = user.add_parser(name, help=text)
        command.add_argument("name")
        command.set_defaults(func=func)
    reset = user.add_parser("reset-password", help="set a one-time password (printed), to be changed at the "
                                                   "next login; every token of the user ends")
    reset.add_argument("name")
    reset.add_argument("--password", default=None, help="this one-time password instead of a generated one")
    reset.set_defaults(func=cmd_reset_password)

