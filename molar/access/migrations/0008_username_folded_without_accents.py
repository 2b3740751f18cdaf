"""SPEC V7: usernames compare without case and without accents. Recompute
`username_folded` with the new fold; two accounts whose names differ only by
accents would now be the same name, so the migration stops before writing
anything and names them (rename one in Molar, then migrate again)."""

from collections import defaultdict

from django.db import migrations


def refold(apps, schema_editor):
    from molar.access.credentials import fold_username

    PortalAccount = apps.get_model("access", "PortalAccount")
    rows = list(PortalAccount.objects.values_list("pk", "username", "username_folded"))
    groups = defaultdict(list)
    for pk, username, _ in rows:
        groups[fold_username(username)].append(f"{username!r} (account {pk})")
    clashes = [names for names in groups.values() if len(names) > 1]
    if clashes:
        lines = "\n".join("  " + ", ".join(names) for names in clashes)
        raise RuntimeError(
            "These portal usernames differ only by accents or letter case and would be the same "
            f"name (SPEC V7). Rename all but one of each group, then migrate again:\n{lines}")
    # No row can take a value another row still holds: a new fold equals an old
    # one only for names without accents, whose fold does not change.
    for pk, username, folded in rows:
        new = fold_username(username)
        if new != folded:
            PortalAccount.objects.filter(pk=pk).update(username_folded=new)


class Migration(migrations.Migration):

    dependencies = [
        ('access', '0007_delete_resetemail'),
    ]

    operations = [
        migrations.RunPython(refold, migrations.RunPython.noop),
    ]
