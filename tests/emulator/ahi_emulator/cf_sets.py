"""Lists CloudFront treats as sets, answered in another order than sent.

CloudFront's API keeps no promise about the order of these lists (the API
reference describes each as "a list of" or "a complex type that contains",
botocore's model declares them plain lists with no ordering trait, and
terraform-provider-aws reads them into `schema.TypeSet`: aliases, origins,
allowed and cached methods, Lambda and function associations, key group
items, cache and origin request policy header, cookie and query string
names). A client comparing them in order would see drift on every read
where AWS reorders them, so the emulator always does: every GET answers
them reversed, deterministically.

Lists whose order is meaningful are left as sent: the ordered cache
behaviours (evaluated in order), an origin group's members (failover order)
and the distribution's custom error responses.
"""

import copy

# The Quantity/Items containers whose Items are a set.
DISTRIBUTION_SETS = (
    "Aliases", "Origins", "AllowedMethods", "CachedMethods", "TrustedKeyGroups", "TrustedSigners",
    "LambdaFunctionAssociations", "FunctionAssociations", "CustomHeaders", "OriginSslProtocols",
)
POLICY_SETS = ("Headers", "Cookies", "QueryStrings")


def reordered(element, containers):
    """A copy of `element` with the Items of every named container reversed;
    with no names, the element's own Items (KeyGroupConfig)."""
    answer = copy.deepcopy(element)
    found = [answer] if not containers else [e for e in answer.iter() if e.tag in containers]
    for container in found:
        items = container.find("Items")
        if items is not None and len(items) > 1:
            children = list(items)
            for child in children:
                items.remove(child)
            items.extend(reversed(children))
    return answer
