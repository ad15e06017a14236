"""CloudFront's access resources: Origin Access Controls, public keys and key
groups, with ETags, AWS's name and in-use rules and error codes
(shared/design/cloudfront-routes.md 3.1, 3.6)."""

import re
import uuid

from .cf_resources import behaviours
from .cf_sets import reordered
from .xmlutil import ApiError, document, items, new_etag, parse, random_id, tag, text, timestamp, to_string

ROUTES = []
for _segment, _kind, _plural in (
    ("origin-access-control", "OriginAccessControl", "OriginAccessControls"),
    ("public-key", "PublicKey", "PublicKeys"),
    ("key-group", "KeyGroup", "KeyGroups"),
):
    ROUTES += [
        ("POST", rf"/{_segment}", f"Create{_kind}"),
        ("GET", rf"/{_segment}", f"List{_plural}"),
        ("GET", rf"/{_segment}/(?P<id>[^/]+)", f"Get{_kind}"),
        ("GET", rf"/{_segment}/(?P<id>[^/]+)/config", f"Get{_kind}Config"),
        ("DELETE", rf"/{_segment}/(?P<id>[^/]+)", f"Delete{_kind}"),
    ]
ROUTES += [
    ("PUT", r"/origin-access-control/(?P<id>[^/]+)/config", "UpdateOriginAccessControl"),
    ("PUT", r"/public-key/(?P<id>[^/]+)/config", "UpdatePublicKey"),
    ("PUT", r"/key-group/(?P<id>[^/]+)", "UpdateKeyGroup"),
]
OPERATIONS = {name for _, _, name in ROUTES}

OAC_TYPES = {"s3", "mediastore", "mediapackagev2", "lambda"}
OAC_BEHAVIOURS = {"never", "always", "no-override"}
PEM = re.compile(r"^-----BEGIN PUBLIC KEY-----\s+[A-Za-z0-9+/=\s]+-----END PUBLIC KEY-----\s*$")


class Entity:
    def __init__(self, account, config, prefix):
        self.account = account
        self.id = random_id(prefix, 13) if prefix else str(uuid.uuid4())
        self.config = config
        self.etag = new_etag()
        self.created = timestamp()
        self.last_modified = self.created

    def touch(self, config):
        self.config = config
        self.etag = new_etag()
        self.last_modified = timestamp()


def public_key_object(encoded):
    """The key as `cryptography` loads it, or InvalidArgument."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    if not PEM.match(encoded or ""):
        raise ApiError("InvalidArgument", "The parameter EncodedKey is not a PEM-encoded public key.")
    try:
        key = load_pem_public_key(encoded.encode())
    except ValueError:
        raise ApiError("InvalidArgument", "The parameter EncodedKey is not a valid public key.") from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size != 2048:
        raise ApiError("InvalidArgument", "The parameter EncodedKey must be an RSA 2048-bit public key.")
    return key


class Access:
    def __init__(self, emulator, cloudfront):
        self.emu = emulator
        self.cloudfront = cloudfront
        self.oacs = {}  # id -> Entity
        self.public_keys = {}
        # (account, CallerReference) of every public key ever created: what
        # CloudFront answers to a deleted key's reference is undocumented, so
        # the emulator refuses its reuse (at least as strict as AWS), as it
        # refuses a distribution's (aws-behaviour.md, "spent CallerReferences").
        self.spent_key_references = set()
        self.key_groups = {}

    def reset(self):
        self.oacs.clear()
        self.public_keys.clear()
        self.spent_key_references.clear()
        self.key_groups.clear()

    def handle(self, call, account, name, params):
        return getattr(self, "op_" + name)(call, account, **params)

    def _get(self, table, account, entity_id, code, message):
        entity = table.get(entity_id)
        if entity is None or entity.account != account:
            raise ApiError(code, message, 404)
        return entity

    def _named(self, table, account, name, exclude=None):
        return any(e.account == account and text(e.config, "Name") == name and e is not exclude for e in table.values())

    def _distribution_uses(self, account, predicate):
        return [c for c in self.cloudfront.configs_in_use(account) if predicate(c)]

    # ---- Origin Access Control -------------------------------------------------

    def _oac_config(self, call, account, exclude=None):
        config = parse(call.body, "OriginAccessControlConfig")
        name = text(config, "Name") or ""
        if not name or len(name) > 64:
            raise ApiError("InvalidArgument", "The parameter Name must be 1 to 64 characters long.")
        if text(config, "SigningProtocol") != "sigv4":
            raise ApiError("InvalidArgument", f"The parameter SigningProtocol has an invalid value: {text(config, 'SigningProtocol')}.")
        if text(config, "SigningBehavior") not in OAC_BEHAVIOURS:
            raise ApiError("InvalidArgument", f"The parameter SigningBehavior has an invalid value: {text(config, 'SigningBehavior')}.")
        if text(config, "OriginAccessControlOriginType") not in OAC_TYPES:
            raise ApiError("InvalidArgument", "The parameter OriginAccessControlOriginType has an invalid value: "
                           f"{text(config, 'OriginAccessControlOriginType')}.")
        if self._named(self.oacs, account, name, exclude):
            raise ApiError("OriginAccessControlAlreadyExists", f"An origin access control with the same name already exists: {name}", 409)
        return config

    def oac(self, account, oac_id):
        return self._get(self.oacs, account, oac_id, "NoSuchOriginAccessControl", "The origin access control does not exist.")

    def _oac_doc(self, oac):
        return document("OriginAccessControl", tag("Id", oac.id) + to_string(oac.config))

    def op_CreateOriginAccessControl(self, call, account):
        oac = Entity(account, self._oac_config(call, account), "E")
        self.oacs[oac.id] = oac
        location = f"https://cloudfront.amazonaws.com/2020-05-31/origin-access-control/{oac.id}"
        return 201, [("ETag", oac.etag), ("Location", location)], self._oac_doc(oac)

    def op_GetOriginAccessControl(self, call, account, id):
        oac = self.oac(account, id)
        return 200, [("ETag", oac.etag)], self._oac_doc(oac)

    def op_GetOriginAccessControlConfig(self, call, account, id):
        oac = self.oac(account, id)
        inner = "".join(to_string(child) for child in oac.config)
        return 200, [("ETag", oac.etag)], document("OriginAccessControlConfig", inner)

    def op_UpdateOriginAccessControl(self, call, account, id):
        oac = self.oac(account, id)
        self.cloudfront.check_etag(call, oac.etag)
        oac.touch(self._oac_config(call, account, exclude=oac))
        return 200, [("ETag", oac.etag)], self._oac_doc(oac)

    def op_DeleteOriginAccessControl(self, call, account, id):
        oac = self.oac(account, id)
        self.cloudfront.check_etag(call, oac.etag)
        if self._distribution_uses(account, lambda c: any(
                text(o, "OriginAccessControlId") == oac.id for o in origins(c))):
            raise ApiError("OriginAccessControlInUse", "The CloudFront origin access control is still being used.", 409)
        del self.oacs[oac.id]
        return 204, [], ""

    def op_ListOriginAccessControls(self, call, account):
        mine = [o for o in self.oacs.values() if o.account == account]
        summaries = "".join(
            "<OriginAccessControlSummary>" + tag("Id", o.id) + tag("Description", text(o.config, "Description", ""))
            + tag("Name", text(o.config, "Name")) + tag("SigningProtocol", text(o.config, "SigningProtocol"))
            + tag("SigningBehavior", text(o.config, "SigningBehavior"))
            + tag("OriginAccessControlOriginType", text(o.config, "OriginAccessControlOriginType"))
            + "</OriginAccessControlSummary>"
            for o in mine
        )
        inner = (tag("Marker", "") + tag("MaxItems", 100) + tag("IsTruncated", "false") + tag("Quantity", len(mine))
                 + (f"<Items>{summaries}</Items>" if mine else ""))
        return 200, [], document("OriginAccessControlList", inner)

    # ---- public keys -----------------------------------------------------------

    def public_key(self, account, key_id):
        return self._get(self.public_keys, account, key_id, "NoSuchPublicKey", "The specified public key does not exist.")

    def _key_doc(self, key):
        return document("PublicKey", tag("Id", key.id) + tag("CreatedTime", key.created) + to_string(key.config))

    def op_CreatePublicKey(self, call, account):
        config = parse(call.body, "PublicKeyConfig")
        for field in ("CallerReference", "Name", "EncodedKey"):
            if not text(config, field):
                raise ApiError("InvalidArgument", f"The parameter {field} is required.")
        public_key_object(text(config, "EncodedKey"))
        reference = text(config, "CallerReference")
        if self._named(self.public_keys, account, text(config, "Name")) or (account, reference) in self.spent_key_references:
            raise ApiError("PublicKeyAlreadyExists", "The specified public key already exists.", 409)
        # Public keys per AWS account (Service Quotas L-302B5900); the message
        # is CloudFront's as terraform-provider-aws users quote it.
        if sum(1 for k in self.public_keys.values() if k.account == account) >= self.emu.config.quotas["public_keys"]:
            raise ApiError("TooManyPublicKeys", "Processing your request will cause you to exceed the maximum "
                           "number of CloudFront public keys allowed.")
        self.spent_key_references.add((account, reference))
        key = Entity(account, config, "K")
        self.public_keys[key.id] = key
        location = f"https://cloudfront.amazonaws.com/2020-05-31/public-key/{key.id}"
        return 201, [("ETag", key.etag), ("Location", location)], self._key_doc(key)

    def op_GetPublicKey(self, call, account, id):
        key = self.public_key(account, id)
        return 200, [("ETag", key.etag)], self._key_doc(key)

    def op_GetPublicKeyConfig(self, call, account, id):
        key = self.public_key(account, id)
        return 200, [("ETag", key.etag)], document("PublicKeyConfig", "".join(to_string(c) for c in key.config))

    def op_UpdatePublicKey(self, call, account, id):
        key = self.public_key(account, id)
        self.cloudfront.check_etag(call, key.etag)
        config = parse(call.body, "PublicKeyConfig")
        for field in ("CallerReference", "Name", "EncodedKey"):
            if (text(config, field) or "").strip() != (text(key.config, field) or "").strip():
                raise ApiError("CannotChangeImmutablePublicKeyFields",
                               "You can't change the value of a public key.", 400)
        key.touch(config)
        return 200, [("ETag", key.etag)], self._key_doc(key)

    def op_DeletePublicKey(self, call, account, id):
        key = self.public_key(account, id)
        self.cloudfront.check_etag(call, key.etag)
        if any(g.account == account and key.id in group_keys(g.config) for g in self.key_groups.values()):
            raise ApiError("PublicKeyInUse", "The specified public key is in use.", 409)
        del self.public_keys[key.id]
        return 204, [], ""

    def op_ListPublicKeys(self, call, account):
        mine = [k for k in self.public_keys.values() if k.account == account]
        summaries = "".join(
            "<PublicKeySummary>" + tag("Id", k.id) + tag("Name", text(k.config, "Name")) + tag("CreatedTime", k.created)
            + tag("EncodedKey", text(k.config, "EncodedKey")) + tag("Comment", text(k.config, "Comment", ""))
            + "</PublicKeySummary>"
            for k in mine
        )
        inner = tag("MaxItems", 100) + tag("Quantity", len(mine)) + (f"<Items>{summaries}</Items>" if mine else "")
        return 200, [], document("PublicKeyList", inner)

    # ---- key groups ------------------------------------------------------------

    def key_group(self, account, group_id):
        return self._get(self.key_groups, account, group_id, "NoSuchResource", "The specified key group does not exist.")

    def _group_config(self, call, account, exclude=None):
        config = parse(call.body, "KeyGroupConfig")
        name = text(config, "Name")
        if not name:
            raise ApiError("InvalidArgument", "The parameter Name is required.")
        keys = group_keys(config)
        if not keys:
            raise ApiError("InvalidArgument", "A key group must contain at least one public key.")
        limit = self.emu.config.quotas["public_keys_per_key_group"]
        if len(keys) > limit:
            raise ApiError("TooManyPublicKeysInKeyGroup",
                           f"The number of public keys in this key group is more than the maximum allowed ({limit}).")
        for key_id in keys:
            if key_id not in self.public_keys or self.public_keys[key_id].account != account:
                raise ApiError("InvalidArgument", f"The public key {key_id} does not exist.")
        if len(text(config, "Comment", "")) > 128:
            raise ApiError("InvalidArgument", "The parameter Comment is longer than 128 characters.")
        if self._named(self.key_groups, account, name, exclude):
            raise ApiError("KeyGroupAlreadyExists", f"A key group with this name already exists: {name}", 409)
        return config

    def _group_doc(self, group):
        return document("KeyGroup", self._group_inner(group))

    @staticmethod
    def _group_inner(group):
        return tag("Id", group.id) + tag("LastModifiedTime", group.last_modified) + to_string(reordered(group.config, ()))

    def op_CreateKeyGroup(self, call, account):
        config = self._group_config(call, account)
        # Key groups per AWS account (L-D64DA6E2). CloudFront's message for
        # it is not published: this one is the API reference's description.
        if sum(1 for g in self.key_groups.values() if g.account == account) >= self.emu.config.quotas["key_groups"]:
            raise ApiError("TooManyKeyGroups", "You have reached the maximum number of key groups for this AWS "
                           "account.")
        group = Entity(account, config, None)
        self.key_groups[group.id] = group
        location = f"https://cloudfront.amazonaws.com/2020-05-31/key-group/{group.id}"
        return 201, [("ETag", group.etag), ("Location", location)], self._group_doc(group)

    def op_GetKeyGroup(self, call, account, id):
        group = self.key_group(account, id)
        return 200, [("ETag", group.etag)], self._group_doc(group)

    def op_GetKeyGroupConfig(self, call, account, id):
        group = self.key_group(account, id)
        return 200, [("ETag", group.etag)], document("KeyGroupConfig", "".join(to_string(c) for c in reordered(group.config, ())))

    def op_UpdateKeyGroup(self, call, account, id):
        group = self.key_group(account, id)
        self.cloudfront.check_etag(call, group.etag)
        group.touch(self._group_config(call, account, exclude=group))
        return 200, [("ETag", group.etag)], self._group_doc(group)

    def op_DeleteKeyGroup(self, call, account, id):
        group = self.key_group(account, id)
        self.cloudfront.check_etag(call, group.etag)
        if self._distribution_uses(account, lambda c: group.id in trusted_groups(c)):
            raise ApiError("ResourceInUse", "Cannot delete this resource because it is in use.", 409)
        del self.key_groups[group.id]
        return 204, [], ""

    def op_ListKeyGroups(self, call, account):
        mine = [g for g in self.key_groups.values() if g.account == account]
        summaries = "".join(f"<KeyGroupSummary><KeyGroup>{self._group_inner(g)}</KeyGroup></KeyGroupSummary>" for g in mine)
        inner = tag("MaxItems", 100) + tag("Quantity", len(mine)) + (f"<Items>{summaries}</Items>" if mine else "")
        return 200, [], document("KeyGroupList", inner)

    # ---- references from distributions ------------------------------------------

    def check_references(self, account, config):
        """OACs and key groups a distribution names must exist (AWS's codes)."""
        for origin in origins(config):
            oac_id = text(origin, "OriginAccessControlId")
            if oac_id:
                if oac_id not in self.oacs or self.oacs[oac_id].account != account:
                    raise ApiError("NoSuchOriginAccessControl", "The origin access control does not exist.", 404)
                if text(origin, "S3OriginConfig/OriginAccessIdentity"):
                    raise ApiError("IllegalOriginAccessConfiguration",
                                   "An origin cannot contain both an origin access control (OAC) and an origin access identity (OAI).")
            vpc = origin.find("VpcOriginConfig")
            if vpc is not None:
                # No VPC origins are modelled: any id names one that does not exist.
                raise ApiError("EntityNotFound", f"The VPC origin {text(vpc, 'VpcOriginId')} does not exist.", 404)
        limit = self.emu.config.quotas["key_groups_per_behavior"]
        for behaviour in behaviours(config):
            ids = [g.text for g in items(behaviour, "TrustedKeyGroups")]
            if len(ids) > limit:
                raise ApiError("TooManyKeyGroupsAssociatedToDistribution",
                               "Your request contains more key groups than are allowed per cache behavior.")
            for group_id in ids:
                if group_id not in self.key_groups or self.key_groups[group_id].account != account:
                    raise ApiError("TrustedKeyGroupDoesNotExist", "The specified key group does not exist.")

    def verifying_keys(self, account, group_ids):
        """Public key id -> loaded key, for the key groups a behaviour trusts."""
        keys = {}
        for group_id in group_ids:
            group = self.key_groups.get(group_id)
            if group is None or group.account != account:
                continue
            for key_id in group_keys(group.config):
                key = self.public_keys.get(key_id)
                if key is not None:
                    keys[key_id] = public_key_object(text(key.config, "EncodedKey"))
        return keys


def origins(config):
    return items(config, "Origins")


def group_keys(config):
    found = config.find("Items")
    return [k.text for k in found] if found is not None else []


def trusted_groups(config):
    return {g.text for b in behaviours(config) for g in items(b, "TrustedKeyGroups")}
