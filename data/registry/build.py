#!/usr/bin/env python3
"""Builds spyware-registry.json, the curated STIX 2.1 registry bundled with Vigil.

The facts below come from public records and published research (each object
carries `external_references` to its sources); the descriptions are our own
words. Run `python3 data/registry/build.py` after editing; the output is
deterministic (ids are UUIDv5 over stable keys, timestamps fixed per release).
"""
import hashlib
import json
import pathlib
import uuid

HERE = pathlib.Path(__file__).resolve().parent
NS = uuid.UUID("6b1d0a3e-5b7a-4c55-9a3e-2f1b6f0c7a11")  # Vigil registry namespace
STAMP = "2026-11-28T00:00:00.000Z"
TLP_CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
VIGIL_EXT = "extension-definition--0b7f5c1e-2d4a-4e8b-9c61-7a3f2e9d5b40"
TLP2_EXT = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"


def sid(kind, key):
    # Deterministic, but shaped as UUIDv4 as the specification recommends for
    # SDOs and SROs: 122 bits of a SHA-256 over a stable key.
    digest = hashlib.sha256(f"{NS}:{kind}:{key}".encode()).digest()
    return f"{kind}--{uuid.UUID(bytes=digest[:16], version=4)}"


def ext(**props):
    """The Vigil registry property extension (see the extension-definition object)."""
    return {VIGIL_EXT: dict(extension_type="property-extension", **props)}


def ref(source, url, description=None):
    r = {"source_name": source, "url": url}
    if description:
        r["description"] = description
    return r


FR_2021 = ref("US Federal Register", "https://www.federalregister.gov/documents/2021/11/04/2021-24123/addition-of-certain-entities-to-the-entity-list", "FR Doc 2021-24123, Entity List additions of 4 November 2021")
FR_2023 = ref("US Federal Register", "https://www.federalregister.gov/d/2023-15343", "FR Doc 2023-15343, Entity List additions of 18 July 2023")
FR_2024_SANDVINE = ref("US Federal Register", "https://www.federalregister.gov/d/2024-03674", "FR Doc 2024-03674, Entity List addition of 27 February 2024")
OFAC_MAR_2024 = ref("US Treasury", "https://home.treasury.gov/news/press-releases/jy2155", "OFAC designations of the Intellexa Consortium, 5 March 2024")
OFAC_SEP_2024 = ref("US Treasury", "https://home.treasury.gov/news/press-releases/jy2581", "OFAC designations of Intellexa Consortium associates, 16 September 2024")

# key, name, class, country, aliases, description, references
VENDORS = [
    ("nso", "NSO Group Technologies", "organization", "IL", ["NSO Group", "Q Cyber Technologies"],
     "Israeli developer of the Pegasus spyware for mobile phones, sold to government agencies; its tool has been found on the phones of journalists, lawyers and activists in many countries.",
     [FR_2021, ref("Amnesty International", "https://www.amnesty.org/en/latest/research/2021/07/forensic-methodology-report-how-to-catch-nso-groups-pegasus/")]),
    ("candiru", "Candiru", "organization", "IL", ["Saito Tech Ltd", "SOURGUM"],
     "Israeli vendor of Windows and browser spyware sold to governments; Microsoft tracks the operator as SOURGUM and its implant as DevilsTongue. The company has operated under several corporate names.",
     [FR_2021, ref("Microsoft", "https://www.microsoft.com/en-us/security/blog/2021/07/15/protecting-customers-from-a-private-sector-offensive-actor-using-0-day-exploits-and-devilstongue-malware/")]),
    ("positive-technologies", "Positive Technologies", "organization", "RU", [],
     "Russian security company added to the US Entity List for trafficking in cyber tools used to gain unauthorised access to information systems.",
     [FR_2021]),
    ("coseinc", "Computer Security Initiative Consultancy PTE. LTD.", "organization", "SG", ["COSEINC"],
     "Singapore company added to the US Entity List for trafficking in cyber exploits.",
     [FR_2021]),
    ("intellexa-sa", "Intellexa S.A.", "organization", "GR", ["Intellexa"],
     "Greek company of the Intellexa alliance, which markets the Predator spyware; listed by the US Commerce Department in 2023 and designated by the US Treasury in 2024.",
     [FR_2023, OFAC_MAR_2024]),
    ("intellexa-ltd", "Intellexa Limited", "organization", "IE", [],
     "Irish company of the Intellexa alliance.",
     [FR_2023, OFAC_MAR_2024]),
    ("cytrox-ad", "Cytrox AD", "organization", "MK", ["Cytrox"],
     "North Macedonian developer of the Predator spyware, part of the Intellexa alliance.",
     [FR_2023, OFAC_MAR_2024, ref("Citizen Lab", "https://citizenlab.ca/2021/12/pegasus-vs-predator-dissidents-doubly-infected-iphone-reveals-cytrox-mercenary-spyware/")]),
    ("cytrox-holdings", "Cytrox Holdings Zrt.", "organization", "HU", ["Cytrox Holdings Crt", "Cytrox Holdings ZRT"],
     "Hungarian holding company of Cytrox, part of the Intellexa alliance.",
     [FR_2023, OFAC_MAR_2024]),
    ("thalestris", "Thalestris Limited", "organization", "IE", [],
     "Irish company designated by the US Treasury in 2024 as part of the Intellexa Consortium.",
     [OFAC_MAR_2024]),
    ("aliada", "Aliada Group Inc.", "organization", "VG", [],
     "British Virgin Islands company designated by the US Treasury in September 2024 as part of the Intellexa Consortium.",
     [OFAC_SEP_2024]),
    ("quadream", "QuaDream", "organization", "IL", ["QuaDream Ltd"],
     "Israeli vendor of iPhone spyware (marketed as Reign) sold to governments; Microsoft tracks its implant as KingsPawn.",
     [ref("Citizen Lab", "https://citizenlab.ca/2023/04/spyware-vendor-quadream-exploits-victims-customers/"), ref("Microsoft", "https://www.microsoft.com/en-us/security/blog/2023/04/11/dev-0196-quadreams-kingspawn-malware-used-to-target-civil-society-in-europe-north-america-the-middle-east-and-southeast-asia/")]),
    ("paragon", "Paragon Solutions", "organization", "IL", ["Paragon"],
     "Israeli-founded vendor of the Graphite spyware for messaging apps, sold to government agencies.",
     [ref("Citizen Lab", "https://citizenlab.ca/2025/03/a-first-look-at-paragons-proliferating-spyware-operations/")]),
    ("rcs-lab", "RCS Lab", "organization", "IT", ["RCS Lab S.p.A."],
     "Italian vendor of lawful-interception products whose Android and iOS spyware was found targeting users in Italy and Kazakhstan.",
     [ref("Google Threat Analysis Group", "https://blog.google/threat-analysis-group/italian-spyware-vendor-targets-users-in-italy-and-kazakhstan/")]),
    ("variston", "Variston IT", "organization", "ES", ["Variston"],
     "Barcelona company linked by Google to the Heliconia exploitation framework for Chrome, Firefox and Windows Defender.",
     [ref("Google Threat Analysis Group", "https://blog.google/threat-analysis-group/new-details-on-commercial-spyware-vendor-variston/")]),
    ("memento-labs", "Memento Labs", "organization", "IT", ["Hacking Team", "HT S.r.l."],
     "Italian successor of Hacking Team, the maker of the Remote Control System (Galileo) surveillance implant sold to governments.",
     [ref("Citizen Lab", "https://citizenlab.ca/2014/02/mapping-hacking-teams-untraceable-spyware/")]),
    ("finfisher", "FinFisher", "organization", "DE", ["Gamma Group", "FinFisher GmbH", "Gamma International"],
     "German-British vendor of the FinSpy surveillance suite for Windows, macOS, Linux, Android and iOS.",
     [ref("Amnesty International", "https://www.amnesty.org/en/latest/research/2020/09/german-made-finspy-spyware-found-in-egypt-and-mac-and-linux-versions-revealed/")]),
    ("dsirf", "DSIRF", "organization", "AT", ["DSIRF GmbH", "KNOTWEED"],
     "Austrian company that Microsoft links to the Subzero malware and to the KNOTWEED activity using Windows and Adobe zero-days.",
     [ref("Microsoft", "https://www.microsoft.com/en-us/security/blog/2022/07/27/untangling-knotweed-european-private-sector-offensive-actor-using-0-day-exploits/")]),
    ("wintego", "Wintego Systems", "organization", "IL", ["Wintego"],
     "Israeli vendor of network interception and the Helios spyware.",
     [ref("Amnesty International", "https://securitylab.amnesty.org/latest/2024/05/a-web-of-surveillance/")]),
    ("cellebrite", "Cellebrite", "organization", "IL", ["Cellebrite DI Ltd"],
     "Israeli vendor of mobile forensic extraction products (UFED); its tools have been used against journalists and activists whose phones were seized.",
     [ref("Amnesty International", "https://securitylab.amnesty.org/latest/2024/12/serbia-a-digital-prison-spyware-and-cellebrite-used-on-journalists-and-activists/"), ref("Citizen Lab", "https://citizenlab.ca/research/from-protest-to-peril-cellebrite-used-against-jordanian-civil-society/")]),
    ("sandvine", "Sandvine", "organization", "CA", [],
     "Canadian vendor of deep packet inspection equipment; its devices were used to redirect users to spyware. Added to the US Entity List in February 2024 and removed in October 2024 after corporate reforms.",
     [FR_2024_SANDVINE, ref("Citizen Lab", "https://citizenlab.ca/2018/03/bad-traffic-sandvines-packetlogic-devices-deploy-government-spyware-turkey-syria/")]),
]

PERSONS = [
    ("tal-dilian", "Tal Jonathan Dilian", ["Tal Dilian"], "Founder of the Intellexa Consortium; designated by the US Treasury in March 2024.", "intellexa-sa", [OFAC_MAR_2024]),
    ("sara-hamou", "Sara Aleksandra Fayssal Hamou", ["Sara Hamou"], "Corporate off-shoring specialist for the Intellexa Consortium; designated in March 2024 and removed from the SDN list on 30 December 2025.", "intellexa-sa", [OFAC_MAR_2024]),
    ("felix-bitzios", "Felix Bitzios", [], "Designated by the US Treasury in September 2024 for his role in the Intellexa Consortium.", "intellexa-sa", [OFAC_SEP_2024]),
    ("andrea-gambazzi", "Andrea Nicola Constantino Hermes Gambazzi", ["Andrea Gambazzi"], "Designated in September 2024 for his role in the Intellexa Consortium; removed from the SDN list on 30 December 2025.", "intellexa-sa", [OFAC_SEP_2024]),
    ("merom-harpaz", "Merom Harpaz", [], "Designated in September 2024 for his role in the Intellexa Consortium; removed from the SDN list on 30 December 2025.", "intellexa-sa", [OFAC_SEP_2024]),
    ("panagiota-karaoli", "Panagiota Karaoli", [], "Designated by the US Treasury in September 2024 for her role in the Intellexa Consortium.", "intellexa-sa", [OFAC_SEP_2024]),
    ("artemis-artemiou", "Artemis Artemiou", [], "Designated by the US Treasury in September 2024 for his role in the Intellexa Consortium.", "intellexa-sa", [OFAC_SEP_2024]),
]

# key, name, aliases, vendor key or None, platforms, description, indicator-set malware ids
PRODUCTS = [
    ("pegasus", "Pegasus", [], "nso", ["ios", "android"], "Mobile spyware installed through zero-click and one-click exploits; reads messages, calls, location, microphone and camera.", ["malware--2e9d534b-2e11-4758-bdc5-9c3e1c100d4d"]),
    ("devilstongue", "DevilsTongue", ["Candiru spyware"], "candiru", ["windows"], "Windows implant delivered with browser and Windows zero-days.", ["malware--8d79ec64-3dd4-485f-b6b7-e112ce818782"]),
    ("predator", "Predator", ["Alien"], "cytrox-ad", ["ios", "android"], "Mobile spyware of the Intellexa alliance, loaded by the Alien component, delivered by one-click links and network injection.", ["malware--d33c9e88-4727-4645-bdb5-fe90f4b1102b", "malware--d392e660-8159-4485-be85-2c021db07c5d"]),
    ("reign", "Reign", ["KingsPawn", "KingSpawn"], "quadream", ["ios"], "iPhone spyware delivered with the ENDOFDAYS zero-click exploit through iCloud calendar invitations.", ["malware--050850f8-c1b4-4c81-a9f5-1bc0c55621df"]),
    ("graphite", "Graphite", [], "paragon", ["android", "ios"], "Spyware that takes over messaging applications on the device.", []),
    ("hermit", "Hermit", [], "rcs-lab", ["android", "ios"], "Modular spyware distributed as fake carrier and messaging apps.", ["malware--7983fdbf-1766-4549-9d5b-a78fff3e44f0"]),
    ("heliconia", "Heliconia", [], "variston", ["windows"], "Exploitation framework for Chrome, Firefox and Microsoft Defender that installs an implant.", []),
    ("rcs-galileo", "Remote Control System", ["Galileo", "Da Vinci"], "memento-labs", ["windows", "macos", "android", "ios"], "Surveillance implant sold to governments by Hacking Team.", []),
    ("finspy", "FinSpy", ["FinFisher"], "finfisher", ["windows", "macos", "linux", "android", "ios"], "Surveillance suite able to record calls, read messages and exfiltrate files.", []),
    ("subzero", "Subzero", [], "dsirf", ["windows"], "Windows malware delivered through Office documents and zero-day exploits.", []),
    ("helios", "Helios", ["Wintego Helios"], "wintego", ["android", "ios"], "Spyware delivered by network injection and fake sites.", ["malware--23b781d2-72f8-4d56-a661-a6ee6c7a9407"]),
    ("ufed", "UFED", ["Universal Forensic Extraction Device"], "cellebrite", ["android", "ios"], "Forensic extraction product that unlocks and copies seized phones.", ["malware--afe324d5-5d65-4060-92f9-98a5012557d0"]),
    ("novispy", "NoviSpy", [], None, ["android"], "Android spyware installed on seized phones in Serbia, reported to be developed for the Serbian authorities.", ["malware--fc5f2370-9d5b-4660-98d2-f7668b235831"]),
    ("triangulation", "TriangleDB", ["Operation Triangulation"], None, ["ios"], "iOS implant delivered through an iMessage zero-click exploit chain.", ["malware--01e5af02-75fd-44f4-890a-d3b6efee9c64"]),
    ("wyrmspy-dragonegg", "WyrmSpy and DragonEgg", [], None, ["android"], "Android surveillance tools attributed to a state-sponsored group.", ["malware--bc220937-1716-44cb-a218-067852839524"]),
    ("eaglemsgspy", "EagleMsgSpy", [], None, ["android", "ios"], "Lawful-interception surveillance tool used by police forces.", ["malware--92b6a65c-e4ea-4f7d-9074-1f48118e1876"]),
    ("residentbat", "ResidentBat", [], None, ["android"], "Android spyware installed on phones of journalists during detention.", ["malware--b939e7ad-9889-41ba-9288-eddf13b779db"]),
    ("coruna", "Coruna", [], None, ["ios"], "iOS exploit kit.", ["malware--e61dbe7b-c0c6-40b2-a516-00b7f157089b"]),
    ("darksword", "DarkSword", [], None, ["ios"], "iOS exploit chain.", ["malware--e6a81d72-fdf3-4f4c-8b21-1ca0c4862624"]),
    ("mercenary-android-campaign", "Mercenary spyware Android campaign (2023)", [], None, ["android"], "Android surveillance campaign linked to a mercenary spyware company.", ["malware--7ea102c5-2b7e-4088-b102-46691b1b84e5"]),
]

# Listings: key, authority, programme, date, action, listed keys, reference
LISTINGS = [
    ("el-2021-11", "US Department of Commerce, BIS", "Entity List (EAR Supplement No. 4 to Part 744)", "2021-11-04", "added", ["nso", "candiru", "positive-technologies", "coseinc"], FR_2021),
    ("el-2023-07", "US Department of Commerce, BIS", "Entity List (EAR Supplement No. 4 to Part 744)", "2023-07-18", "added", ["intellexa-sa", "intellexa-ltd", "cytrox-ad", "cytrox-holdings"], FR_2023),
    ("el-2024-02", "US Department of Commerce, BIS", "Entity List (EAR Supplement No. 4 to Part 744)", "2024-02-27", "added", ["sandvine"], FR_2024_SANDVINE),
    ("el-2024-10-removal", "US Department of Commerce, BIS", "Entity List (EAR Supplement No. 4 to Part 744)", "2024-10-21", "removed", ["sandvine"], FR_2024_SANDVINE),
    ("ofac-2024-03", "US Department of the Treasury, OFAC", "CYBER (E.O. 13694 as amended by E.O. 13757), SDN List", "2024-03-05", "added", ["intellexa-sa", "intellexa-ltd", "cytrox-ad", "cytrox-holdings", "thalestris", "tal-dilian", "sara-hamou"], OFAC_MAR_2024),
    ("ofac-2024-09", "US Department of the Treasury, OFAC", "CYBER (E.O. 13694 as amended by E.O. 13757), SDN List", "2024-09-16", "added", ["aliada", "felix-bitzios", "andrea-gambazzi", "merom-harpaz", "panagiota-karaoli", "artemis-artemiou"], OFAC_SEP_2024),
    ("ofac-2025-12-removal", "US Department of the Treasury, OFAC", "CYBER (E.O. 13694 as amended by E.O. 13757), SDN List", "2025-12-30", "removed", ["sara-hamou", "andrea-gambazzi", "merom-harpaz"], OFAC_SEP_2024),
]

# Documented abuse cases: key, name, published, products, description, references
CASES = [
    ("hide-and-seek-2018", "Pegasus operations in 45 countries", "2018-09-18", ["pegasus"],
     "Internet scanning and DNS cache probing found Pegasus infections linked to operators in 45 countries, several with records of abusing surveillance against civil society.",
     [ref("Citizen Lab", "https://citizenlab.ca/2018/09/hide-and-seek-tracking-nso-groups-pegasus-spyware-to-operations-in-45-countries/")]),
    ("pegasus-project-2021", "Pegasus forensic methodology and the Pegasus Project", "2021-07-18", ["pegasus"],
     "Forensic analysis of phones of journalists and human rights defenders confirmed Pegasus infections, including by zero-click iMessage exploits; the indicators were published with the Mobile Verification Toolkit.",
     [ref("Amnesty International", "https://www.amnesty.org/en/latest/research/2021/07/forensic-methodology-report-how-to-catch-nso-groups-pegasus/")]),
    ("predator-2021", "Predator and Pegasus on the same phone", "2021-12-16", ["predator", "pegasus"],
     "An exiled Egyptian politician's iPhone was infected with both Predator and Pegasus; a Greek journalist was also targeted with Predator.",
     [ref("Citizen Lab", "https://citizenlab.ca/2021/12/pegasus-vs-predator-dissidents-doubly-infected-iphone-reveals-cytrox-mercenary-spyware/")]),
    ("predator-eltantawy-2023", "Predator delivered by network injection in Egypt", "2023-09-22", ["predator"],
     "A presidential hopeful in Egypt was targeted with Predator through network injection of links and an iOS zero-day chain.",
     [ref("Citizen Lab", "https://citizenlab.ca/2023/09/predator-in-the-wires-ahmed-eltantawy-targeted-with-predator-spyware-after-announcing-presidential-ambitions/")]),
    ("quadream-2023", "QuaDream victims in North America, Europe, Middle East and Asia", "2023-04-11", ["reign"],
     "Journalists, political opposition figures and an NGO worker were identified as victims of QuaDream's iPhone spyware.",
     [ref("Citizen Lab", "https://citizenlab.ca/2023/04/spyware-vendor-quadream-exploits-victims-customers/")]),
    ("hermit-2022", "Hermit used in Italy and Kazakhstan", "2022-06-23", ["hermit"],
     "Android and iOS users were targeted with RCS Lab's spyware, in some cases with the help of their mobile operator.",
     [ref("Google Threat Analysis Group", "https://blog.google/threat-analysis-group/italian-spyware-vendor-targets-users-in-italy-and-kazakhstan/")]),
    ("paragon-2025", "Graphite used against journalists and activists", "2025-03-19", ["graphite"],
     "Paragon's Graphite spyware was deployed against members of civil society, including journalists in Italy notified by WhatsApp.",
     [ref("Citizen Lab", "https://citizenlab.ca/2025/03/a-first-look-at-paragons-proliferating-spyware-operations/")]),
    ("serbia-2024", "NoviSpy and Cellebrite used on journalists and activists in Serbia", "2024-12-16", ["novispy", "ufed"],
     "Phones of journalists and activists were unlocked with forensic tools while in custody and infected with NoviSpy.",
     [ref("Amnesty International", "https://securitylab.amnesty.org/latest/2024/12/serbia-a-digital-prison-spyware-and-cellebrite-used-on-journalists-and-activists/")]),
    ("wintego-2024", "Helios spyware infrastructure", "2024-05-02", ["helios"],
     "Investigation of a surveillance infrastructure and the Helios spyware.",
     [ref("Amnesty International", "https://securitylab.amnesty.org/latest/2024/05/a-web-of-surveillance/")]),
    ("candiru-2021", "Candiru's spyware used against civil society", "2021-07-15", ["devilstongue"],
     "Victims of DevilsTongue included politicians, human rights defenders, journalists, academics and dissidents.",
     [ref("Microsoft", "https://www.microsoft.com/en-us/security/blog/2021/07/15/protecting-customers-from-a-private-sector-offensive-actor-using-0-day-exploits-and-devilstongue-malware/")]),
]


def main():
    me = sid("identity", "vigil-registry")
    common = {"spec_version": "2.1", "created": STAMP, "modified": STAMP, "created_by_ref": me,
              "object_marking_refs": [TLP_CLEAR]}
    objs = [
        {"type": "identity", "spec_version": "2.1", "id": me, "created": STAMP, "modified": STAMP,
         "name": "Vigil registry maintainers", "identity_class": "organization",
         "description": "Curators of the spyware registry bundled with Vigil.",
         "object_marking_refs": [TLP_CLEAR]},
        {"type": "marking-definition", "spec_version": "2.1", "id": TLP_CLEAR, "created": "2022-10-01T00:00:00.000Z",
         "name": "TLP:CLEAR", "extensions": {TLP2_EXT: {"extension_type": "property-extension", "tlp_2_0": "clear"}}},
    ]
    objs.append({"type": "extension-definition", "spec_version": "2.1", "id": VIGIL_EXT, "created": STAMP,
                 "modified": STAMP, "created_by_ref": me, "name": "Vigil registry properties", "version": "1.0.0",
                 "description": "Registry roles, aliases, countries, platforms and listings of spyware vendors and products.",
                 "extension_types": ["property-extension"], "object_marking_refs": [TLP_CLEAR],
                 "schema": "Properties of Vigil's spyware registry. role: one of spyware-vendor, listed-person, "
                           "spyware-product, listing, abuse-case. country: ISO 3166-1 alpha-2 code of a vendor. "
                           "aliases: other names of a vendor or person. platforms: operating systems a product "
                           "targets. listing: {authority, programme, date (YYYY-MM-DD), action (added or removed)} "
                           "on a note recording a restricted-party listing."})
    ids = {}
    for key, name, cls, cc, aliases, desc, refs in VENDORS:
        i = sid("identity", key)
        ids[key] = i
        o = dict(common, type="identity", id=i, name=name, identity_class=cls, sectors=["technology"],
                 description=desc, external_references=refs, extensions=ext(role="spyware-vendor", country=cc))
        if aliases:
            o["extensions"][VIGIL_EXT]["aliases"] = aliases
        objs.append(o)
    for key, name, aliases, desc, org, refs in PERSONS:
        i = sid("identity", key)
        ids[key] = i
        o = dict(common, type="identity", id=i, name=name, identity_class="individual", description=desc,
                 external_references=refs, extensions=ext(role="listed-person"))
        if aliases:
            o["extensions"][VIGIL_EXT]["aliases"] = aliases
        objs.append(o)
        objs.append(dict(common, type="relationship", id=sid("relationship", f"{key}-affiliated-{org}"),
                         relationship_type="affiliated-with", source_ref=i, target_ref=ids[org]))
    # Corporate structure of the Intellexa alliance as published by the US Treasury.
    for member in ["intellexa-ltd", "cytrox-ad", "cytrox-holdings", "thalestris", "aliada"]:
        objs.append(dict(common, type="relationship", id=sid("relationship", f"{member}-member-intellexa"),
                         relationship_type="affiliated-with", source_ref=ids[member], target_ref=ids["intellexa-sa"],
                         description="Member of the Intellexa Consortium per the US Treasury.",
                         external_references=[OFAC_MAR_2024 if member != "aliada" else OFAC_SEP_2024]))
    for key, name, aliases, vendor, platforms, desc, indicator_malware in PRODUCTS:
        i = sid("malware", key)
        ids[key] = i
        o = dict(common, type="malware", id=i, name=name, is_family=True, malware_types=["spyware"],
                 description=desc, extensions=ext(role="spyware-product", platforms=platforms))
        if aliases:
            o["aliases"] = aliases
        objs.append(o)
        if vendor:
            objs.append(dict(common, type="relationship", id=sid("relationship", f"{key}-authored-by-{vendor}"),
                             relationship_type="authored-by", source_ref=i, target_ref=ids[vendor]))
        for m in indicator_malware:
            objs.append(dict(common, type="relationship", id=sid("relationship", f"{key}-indicators-{m}"),
                             relationship_type="related-to", source_ref=m, target_ref=i,
                             description="Public indicator set for this product."))
    for key, authority, programme, date, action, listed, src in LISTINGS:
        verb = "added to" if action == "added" else "removed from"
        names = ", ".join(next(v[1] for v in VENDORS + PERSONS if v[0] == k) for k in listed)
        objs.append(dict(common, type="note", id=sid("note", key),
                         abstract=f"{authority}: {verb} {programme} on {date}",
                         content=f"{names} {'were' if len(listed) > 1 else 'was'} {verb} the {programme} by the {authority} on {date}.",
                         object_refs=[ids[k] for k in listed], external_references=[src],
                         extensions=ext(role="listing", listing={"authority": authority, "programme": programme, "date": date, "action": action})))
    for key, name, published, products, desc, refs in CASES:
        objs.append(dict(common, type="report", id=sid("report", key), name=name, report_types=["threat-report"],
                         published=f"{published}T00:00:00.000Z", description=desc, external_references=refs,
                         object_refs=[ids[p] for p in products], extensions=ext(role="abuse-case")))
    bundle = {"type": "bundle", "id": sid("bundle", "vigil-registry-" + STAMP), "objects": objs}
    out = HERE / "spyware-registry.json"
    out.write_text(json.dumps(bundle, indent=1, ensure_ascii=False) + "\n")
    print(f"{out.name}: {len(objs)} objects")


if __name__ == "__main__":
    main()
