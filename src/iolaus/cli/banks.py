"""Commands over media hashes: hashing files, hash banks, matching, victim submissions."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from iolaus.cli.main import app, fail, out, print_json, state
from iolaus.model.banks import InvalidBank, InvalidSignal
from iolaus.model.signals import Category
from iolaus.store import audit
from iolaus.store import banks as bank_store
from iolaus.terminal import shown

bank_app = typer.Typer(
    help="Hash banks: named lists of hashes of known abusive media.", no_args_is_help=True
)
victim_app = typer.Typer(
    help="Victim submissions: hashes only, withdrawable.", no_args_is_help=True
)
app.add_typer(bank_app, name="bank")
app.add_typer(victim_app, name="victim")

ACTOR = "cli"
MaxBytes = Annotated[int, typer.Option(help="Refuse files larger than this many bytes.")]


def _jsonl(data: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")


@app.command("hash")
def hash_command(
    files: Annotated[list[Path], typer.Argument(help="Photos or videos to hash.")],
    max_bytes: MaxBytes = 100 * 1024 * 1024,
) -> None:
    """Hash files: one JSON line each with PDQ (photos) or frame hashes (videos), MD5, SHA-256.

    Runs entirely on this machine and sends nothing anywhere: a victim can hash their own
    photos and share only the PDQ line. Exit status 1 if any file was refused.
    """
    from iolaus.hashing.media import MediaError, hash_file

    failed = False
    for path in files:
        try:
            _jsonl({"file": str(path), **hash_file(path, max_bytes=max_bytes).to_json()})
        except (MediaError, OSError) as exc:
            failed = True
            _jsonl({"file": str(path), "error": str(exc)})
    if failed:
        raise typer.Exit(1)


def _queries(items: list[str], max_bytes: int) -> list[tuple[str, dict[str, str]]]:
    """Each argument as (label, signals by type name): a file is hashed, anything else read as
    a hash."""
    from iolaus.hashing.media import MediaError, hash_file
    from iolaus.hashing.signals import parse_hash, signals_of
    from iolaus.hashing.types import by_name

    queries = []
    for item in items:
        path = Path(item)
        try:
            if path.is_file():
                queries.append((item, by_name(signals_of(hash_file(path, max_bytes=max_bytes)))))
            else:
                kind, value = parse_hash(item)
                queries.append((item, {kind.name: value}))
        except (MediaError, OSError, ValueError) as exc:
            fail(f"{item}: {exc}")
    return queries


@app.command("match")
def match_command(
    items: Annotated[list[str], typer.Argument(help="Files, or hashes (pdq:HEX, md5:HEX, HEX).")],
    banks: Annotated[str | None, typer.Option(help="Only these banks (comma-separated).")] = None,
    max_bytes: MaxBytes = 100 * 1024 * 1024,
) -> None:
    """Match files or hashes against the banks: one JSON line per match.

    Each line has the query, bank, content id, signal type, distance and category. A match also
    present in an allow-list bank is reported with "allowed_by" and does not count.
    """
    from iolaus.hashing.matcher import Matcher

    matcher = Matcher(state.engine())
    only = set(banks.split(",")) if banks else None
    for label, signals in _queries(items, max_bytes):
        for signal_type, value in signals.items():
            result = matcher.lookup(signal_type, [value], banks=only, bypass_coinflip=True)[0]
            allowed = [m.bank for m in result.allowed_by]
            for match in result.matches:
                line = {"query": label, **match.to_json()}
                if allowed:
                    line["allowed_by"] = allowed
                _jsonl(line)


# -- banks ------------------------------------------------------------------------------------


@bank_app.command("create")
def bank_create(
    name: Annotated[str, typer.Argument(help="Upper-case letters, digits, _ (HMA's rule).")],
    category: Annotated[Category, typer.Option(help="Harm category of a match.")] = Category.CSAM,
    threshold: Annotated[int, typer.Option(help="PDQ match distance, 0–31.")] = 31,
    allowlist: Annotated[
        bool, typer.Option("--allowlist", help="Matches here cancel positive matches.")
    ] = False,
    description: Annotated[str | None, typer.Option(help="Free text.")] = None,
) -> None:
    """Create a bank."""
    try:
        with state.engine().begin() as conn:
            bank = bank_store.create_bank(
                conn,
                name,
                category=category.value,
                pdq_threshold=threshold,
                is_allowlist=allowlist,
                description=description,
            )
            audit.record(conn, ACTOR, "bank.create", name, category=category.value)
    except InvalidBank as exc:
        fail(str(exc))
        return
    out.print(f"created bank {bank.name}", highlight=False)


@bank_app.command("list")
def bank_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List banks with their size and settings."""
    with state.engine().connect() as conn:
        rows = bank_store.list_banks(conn)
    if as_json:
        print_json([b.to_json() for b in rows])
        return
    table = Table(title=f"{len(rows)} banks")
    for column in ("name", "category", "threshold", "allow-list", "enabled", "hashes"):
        table.add_column(column)
    for b in rows:
        table.add_row(
            b.name,
            b.category.value,
            str(b.pdq_threshold),
            "yes" if b.is_allowlist else "",
            f"{b.enabled_ratio:g}",
            f"{b.size:,}",
        )
    out.print(table)


@bank_app.command("show")
def bank_show(
    name: str,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
) -> None:
    """Show a bank and its first items."""
    with state.engine().connect() as conn:
        bank = bank_store.get_bank(conn, name)
        if bank is None:
            fail(f"no bank named {name!r}")
            return
        items = bank_store.list_content(conn, name, limit=limit)
    if as_json:
        print_json(
            {
                "bank": bank.to_json(),
                "content": [
                    {
                        "id": i.id,
                        "signals": i.signals,
                        "note": i.note,
                        "source": i.source,
                        "enabled": i.disable_until_ts != 0,
                    }
                    for i in items
                ],
            }
        )
        return
    out.print(
        f"{bank.name}: {bank.size:,} items, category {bank.category.value}, "
        f"PDQ threshold {bank.pdq_threshold}",
        highlight=False,
    )
    table = Table()
    for column in ("id", "signals", "source", "note"):
        table.add_column(column)
    for i in items:
        table.add_row(
            str(i.id),
            " ".join(f"{k}:{v}" for k, v in i.signals.items()),
            i.source,
            shown(i.note, 60),
        )
    out.print(table)


def _set_enabled(name: str, item: int | None, enabled: bool) -> None:
    action = "enable" if enabled else "disable"
    with state.engine().begin() as conn:
        bank = bank_store.get_bank(conn, name)
        if bank is None:
            fail(f"no bank named {name!r}")
        if item is None:
            bank_store.update_bank(conn, name, enabled_ratio=1.0 if enabled else 0.0)
            audit.record(conn, ACTOR, f"bank.{action}", name)
            out.print(f"bank {name} {action}d", highlight=False)
            return
        content = bank_store.get_content(conn, item)
        if content is None or content.bank != name:
            fail(f"no item {item} in bank {name}")
        bank_store.update_content(conn, item, disable_until_ts=1 if enabled else 0)
        audit.record(conn, ACTOR, f"bank.item.{action}", f"{name}/{item}")
    out.print(f"item {item} of {name} {action}d", highlight=False)


ItemOption = Annotated[int | None, typer.Option("--item", help="One item instead of the bank.")]


@bank_app.command("enable")
def bank_enable(name: str, item: ItemOption = None) -> None:
    """Enable a bank (or one item): it matches again, at once."""
    _set_enabled(name, item, True)


@bank_app.command("disable")
def bank_disable(name: str, item: ItemOption = None) -> None:
    """Disable a bank (or one item): it stops matching at once; nothing is deleted."""
    _set_enabled(name, item, False)


@bank_app.command("delete")
def bank_delete(
    name: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a bank and every hash in it (indexes drop them within a second)."""
    if not yes:
        typer.confirm(f"Delete bank {name} and all its hashes?", abort=True)
    with state.engine().begin() as conn:
        if not bank_store.delete_bank(conn, name):
            fail(f"no bank named {name!r}")
        audit.record(conn, ACTOR, "bank.delete", name)
    out.print(f"deleted bank {name}", highlight=False)


@bank_app.command("add")
def bank_add(
    name: str,
    items: Annotated[list[str], typer.Argument(help="Files to hash, or hashes (pdq:HEX, HEX).")],
    note: Annotated[str | None, typer.Option(help="Note stored with each item (≤ 255).")] = None,
    max_bytes: MaxBytes = 100 * 1024 * 1024,
) -> None:
    """Add files (hashed here, never stored) or hashes to a bank."""
    queries = _queries(items, max_bytes)
    added = 0
    try:
        with state.engine().begin() as conn:
            for label, signals in queries:
                content_id, created = bank_store.add_content(conn, name, signals, note=note)
                added += created
                _jsonl({"item": label, "content_id": content_id, "created": created})
            audit.record(conn, ACTOR, "bank.add", name, added=added)
    except (bank_store.NoSuchBank, ValueError) as exc:
        fail(str(exc))


@bank_app.command("import")
def bank_import(
    name: str,
    file: Annotated[Path, typer.Argument(help="python-threatexchange file format.")],
    signal_type: Annotated[
        str | None, typer.Option(help="Type of every line when lines hold bare hashes.")
    ] = None,
) -> None:
    """Import hashes from a file in python-threatexchange's format (``<type> <hash>`` per line,
    or bare hashes with --signal-type). All lines or none: a bad line names its number."""
    from iolaus.hashing.signals import parse_hash

    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{file}: cannot read: {exc}")
        return
    signals = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            signals.append(parse_hash(line, signal_type))
        except (InvalidSignal, ValueError) as exc:
            fail(f"{file}:{number}: {exc}")
    added = 0
    try:
        with state.engine().begin() as conn:
            for kind, value in signals:
                added += bank_store.add_content(conn, name, {kind.name: value}, source="import")[1]
            audit.record(conn, ACTOR, "bank.import", name, lines=len(signals), added=added)
    except bank_store.NoSuchBank as exc:
        fail(str(exc))
    out.print(f"{added:,} new of {len(signals):,} hashes imported into {name}", highlight=False)


@bank_app.command("export")
def bank_export(
    name: str,
    file: Annotated[
        Path | None, typer.Argument(help="Output file; default standard output.")
    ] = None,
) -> None:
    """Export a bank in python-threatexchange's file format (``<type> <hash>`` per line).

    Victim submissions are not exported: their hashes leave only through withdrawal."""
    with state.engine().connect() as conn:
        if bank_store.get_bank(conn, name) is None:
            fail(f"no bank named {name!r}")
        lines = [
            f"{kind} {value}\n"
            for item in bank_store.list_content(conn, name, limit=None)
            if item.source != "victim"
            for kind, value in sorted(item.signals.items())
        ]
    if file is None:
        sys.stdout.writelines(lines)
    else:
        file.write_text("".join(lines), encoding="utf-8")
        out.print(f"{len(lines):,} hashes written to {file}", highlight=False)


# -- victim submissions ---------------------------------------------------------------------


@victim_app.command("submit")
def victim_submit(
    hashes: Annotated[list[str], typer.Argument(help="PDQ hashes from `iolaus hash` (pdq:HEX).")],
    bank: Annotated[str, typer.Option(help="Bank that receives the hashes.")] = "NCII_VICTIMS",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Submit hashes on a victim's behalf; prints a case reference and a secret, once.

    The secret is needed to withdraw; it is not stored and cannot be shown again."""
    from iolaus.hashing.signals import parse_hash
    from iolaus.store import victims

    try:
        signals = [(kind.name, value) for kind, value in map(parse_hash, hashes)]
        with state.engine().begin() as conn:
            receipt = victims.submit(conn, bank, signals)
    except (bank_store.NoSuchBank, ValueError) as exc:
        fail(str(exc))
        return
    if as_json:
        print_json(
            {"reference": receipt.reference, "secret": receipt.secret, "hashes": receipt.hashes}
        )
        return
    out.print(f"reference: {receipt.reference}\nsecret:    {receipt.secret}", highlight=False)
    out.print("Keep the secret: it is needed to withdraw and cannot be shown again.")


@victim_app.command("withdraw")
def victim_withdraw(
    reference: str,
    secret: Annotated[
        str, typer.Option(prompt=True, hide_input=True, help="The secret given at submission.")
    ],
) -> None:
    """Withdraw a submission: its hashes are deleted from every bank and index."""
    from iolaus.store import victims

    try:
        with state.engine().begin() as conn:
            removed = victims.withdraw(conn, reference, secret)
    except victims.SubmissionError as exc:
        fail(str(exc))
        return
    out.print(f"withdrawn: {removed} hash(es) deleted", highlight=False)
