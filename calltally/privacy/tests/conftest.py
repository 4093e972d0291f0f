"""A small world for retention and privacy tests: site HQ (Asterisk CSV, Europe/Rome) with Alice
on 201 and Bob on 202, and raw records appended to the spool on the day they were received."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from calltally.directory.models import CostCenter, Extension, Person
from calltally.miner.pipeline import SiteMiner
from calltally.sites.models import Site
from calltally.spool.storage import Spool

UTC = dt.UTC
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ALICE_FRIEND = "0612345678"  # calls Alice, and Bob calls it too
OTHER = "0698765432"
ABROAD = "00223456789"


def cdr(src: str, dst: str, start: str, *, talk: int = 60, uid: str, inbound: bool = False,
        answered: bool = True) -> bytes:
    """One Asterisk Master.csv line (times local to the site)."""
    context = "from-pstn" if inbound else "from-internal"
    begin = dt.datetime.fromisoformat(start)
    answer = (begin + dt.timedelta(seconds=5)).strftime("%Y-%m-%d %H:%M:%S") if answered else ""
    end = (begin + dt.timedelta(seconds=5 + talk)).strftime("%Y-%m-%d %H:%M:%S")
    disposition = "ANSWERED" if answered else "NO ANSWER"
    channel, dstchannel = ("PJSIP/trunk-1", f"PJSIP/{dst}-2") if inbound else (f"PJSIP/{src}-1", "PJSIP/trunk-2")
    return (f'"","{src}","{dst}","{context}","""Caller"" <{src}>","{channel}","{dstchannel}","Dial",'
            f'"PJSIP/{dst},30","{start}","{answer}","{end}",{talk + 5},{talk if answered else 0},"{disposition}",'
            f'"DOCUMENTATION","{uid}",""').encode()


@dataclass
class World:
    site: Site
    spool: Spool
    alice: Person
    bob: Person

    def append(self, received: dt.datetime, *lines: bytes):
        return self.spool.append(self.site.code, list(lines), source="import:test.csv", received=received)

    def mine(self):
        return SiteMiner(self.site, self.spool).mine()

    def day_of_calls(self, day: str, seq: int) -> list[bytes]:
        """Five calls of one local day: Alice out and in, Bob out to Alice's friend and in, one missed."""
        return [
            cdr("201", ABROAD, f"{day} 10:00:00", talk=120, uid=f"{seq}.1"),
            cdr(ALICE_FRIEND, "201", f"{day} 11:00:00", talk=300, uid=f"{seq}.2", inbound=True),
            cdr("202", ALICE_FRIEND, f"{day} 12:00:00", talk=45, uid=f"{seq}.3"),
            cdr(OTHER, "202", f"{day} 13:00:00", talk=30, uid=f"{seq}.4", inbound=True),
            cdr(OTHER, "202", f"{day} 23:30:00", talk=0, uid=f"{seq}.5", inbound=True, answered=False),
        ]


@pytest.fixture
def world(make_site, spool) -> World:
    site = make_site("HQ")
    sales = CostCenter.objects.create(code="SALES", name="Sales")
    alice = Person.objects.create(username="alice", first_name="Alice", last_name="Rossi", email="alice@example.com",
                                  cost_center=sales, site=site)
    bob = Person.objects.create(username="bob", first_name="Bob", cost_center=sales, site=site)
    Extension.objects.create(site=site, number="201", person=alice)
    Extension.objects.create(site=site, number="202", person=bob)
    return World(site, spool, alice, bob)


@pytest.fixture
def three_days(world) -> World:
    """Calls on 2 March (received that day), 20 April and 30 May 2026, all mined; one unreadable record."""
    world.append(dt.datetime(2026, 3, 2, 23, 59, tzinfo=UTC), *world.day_of_calls("2026-03-02", 1),
                 b"not a call record at all 0612345678")
    world.append(dt.datetime(2026, 4, 20, 23, 59, tzinfo=UTC), *world.day_of_calls("2026-04-20", 2))
    world.append(dt.datetime(2026, 5, 30, 23, 59, tzinfo=UTC), *world.day_of_calls("2026-05-30", 3))
    world.mine()
    return world
