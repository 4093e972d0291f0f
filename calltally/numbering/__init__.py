"""Number normalization: what a PBX recorded -> an E.164 number and a destination.

The rating engine prices a call by where it went. A PBX records what the user
dialled ("0" + "0223456789" on an Italian site whose outside line is "0") or
the caller id the carrier sent; this package turns either into the E.164 form
("+390223456789"), a category and a destination name ("Italy, Milan"), from
the site's :class:`NumberingPlan` (country, area code, access codes,
extension plan) and the country metadata of the ``phonenumbers`` library.
Like the drivers, it is pure Python and never imports Django.

How a number is read
--------------------

1. **Cleaning.** Spaces, dashes, dots and parentheses are dropped; a leading
   "+" is kept and means international. A trailing "#" (the "dial now" key)
   is dropped. A string with "*" or "#" in it is a service code (call
   forwarding, voicemail…): category ``special``, or ``internal`` when the
   extension plan says so. Anything else that is not digits is ``unknown``.

2. **Emergency numbers come first.** The emergency numbers of the site's
   country (112, 113, 115, 118 in Italy; 911 and 112 in the US) are
   ``emergency``, whether dialled bare or after an access code ("0112",
   "9911"), even when the extension plan would also accept them: a PBX must
   route them outside, and an emergency call must never be hidden as an
   internal one.

3. **Extensions.** If the whole string is an extension of the site (the plan's
   ``internal`` predicate), it is ``internal`` and nothing is stripped. So
   "0187" on a site with 3-4 digit extensions is an extension: only
   emergency numbers are recognised inside an extension-shaped string.

4. **Access codes (outbound calls).** At most one access code is taken off,
   the longest matching one first, and only when what follows is a complete
   number: a valid number of the site's country or abroad (or a short
   service number). Otherwise the digits are read as dialled. In Italy, with
   access code "0": "00223456789" -> "0223456789" (Milan); "0223456789" ->
   "0223456789" as well, because "223456789" is no number and the leading 0
   belongs to Italian numbers; "03471234567" -> "3471234567" (a mobile).

   *Ambiguity.* Sometimes both readings are valid numbers: "0392345678" is
   Monza as dialled and the mobile "392345678" without the "0". The access
   code then wins, because a site that declares an access code is one whose
   PBX records it. If a PBX records numbers without the access code, the
   site should not declare one for normalization.

5. **Caller ids (inbound calls).** No access code is stripped, but PBXs often
   put the trunk access digit in front of caller ids so that users can call
   back: when the caller id is not a number but the same digits without a
   leading "0" (or without one of the site's access codes) are, those are used.

6. **Prefixes.** A "+" or the country's international prefix (from
   phonenumbers: "00" in Italy and the UK, "011" in the US) starts an
   international number. In NANP countries "1" + 10 digits and 10 digits are
   national and 7 digits are local (the site's area code is put in front).
   Italy has no trunk prefix (area codes start with 0, mobiles with 3), so
   every number is dialled in full. In countries with a trunk prefix ("0" in
   the UK, Germany, France…) a number without it that is only valid with the
   site's area code in front is a local number of that area.

7. **Numbers phonenumbers does not know.** A number of plausible length that
   matches no known range (a new range, a mistyped digit) keeps its E.164
   form and is ``national`` or ``international`` by its country code alone.
   Anything shorter or longer is ``unknown``.

Categories
----------

``internal``       an extension of the site (rule 3).
``emergency``      an emergency number of the site's country (rule 2).
``toll_free``      freephone ranges (800 and 803 in Italy; 800, 888… in NANP).
``premium``        premium-rate ranges (899 in Italy, 900 in the US).
``special``        shared cost, universal access, personal, pager and voicemail
                   ranges; the country's short service numbers other than
                   emergency ones (187, 411…); service codes with * or #.
``mobile``         mobile ranges. Where phonenumbers cannot tell fixed from
                   mobile (the US, Canada…), the number counts as a fixed line.
``local``          a fixed line of the site's own area: the national number
                   starts with the site's area code ("02…" for area "02",
                   NPA 212 for area "212"). Overlay codes (646 over 212) are
                   other areas; a tariff prefix can say otherwise.
``national``       any other fixed line of the site's country, and VoIP ranges
                   (charged like a non-local fixed line by most carriers).
``international``  a number valid in another country, whatever its type,
                   including NANP countries from one another (+1 876 Jamaica
                   from New York) and territories sharing the site's calling
                   code (the Vatican from Italy, Jersey from the UK).
``unknown``        cannot be read, or no plausible length.

A number counts as being in the site's country when phonenumbers says it is
valid there, so NANP toll-free numbers (filed under the US) are ``toll_free``
from Canada too.

Destinations
------------

The English country name, then the region for fixed lines when the geocoder
knows it ("Italy, Milan", "United States, New York, NY", "United Kingdom,
London"), or the kind of number in brackets ("Italy (mobile)", "Italy (toll
free)", "United Kingdom (mobile)"). Emergency numbers say "Emergency",
service codes "Service code"; extensions and unknown numbers have none.
``country`` is the ISO code of the destination ("" for extensions, service
codes, unknown numbers and international networks such as +800).

Use
---

A site keeps one :class:`Normalizer` (it caches every distinct number it has
seen) and calls it for every call; :func:`normalize` is the one-off form.
Nothing here raises on bad input: what cannot be read comes back ``unknown``.
"""

from .normalizer import Normalizer, normalize
from .plan import CATEGORIES, Normalized, NumberingPlan

__all__ = ["CATEGORIES", "Normalized", "Normalizer", "NumberingPlan", "normalize"]
