"""Prints the TLP 1.0 marking-definitions predefined by the OASIS stix2 library as a JSON array."""
import json
import sys

import stix2

json.dump(
    [json.loads(m.serialize()) for m in (stix2.TLP_WHITE, stix2.TLP_GREEN, stix2.TLP_AMBER, stix2.TLP_RED)],
    sys.stdout,
)
