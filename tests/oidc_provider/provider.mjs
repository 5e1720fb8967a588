// A standards-compliant OpenID provider for the tests: node-oidc-provider as it ships,
// which (per OIDC Core) returns scope claims such as `email` from the userinfo endpoint
// only, never in the ID token when an access token is issued.
//
//   node provider.mjs <port> <settings.json>
//
// settings.json: {"clients": [{client_id, client_secret, redirect_uris}],
//                 "accounts": {"<sub>": {"email": ..., "email_verified": ...}},
//                 "default_email_verified": true | false | null}
// The login typed at the provider's sign-in form is the subject (`sub`). The settings are
// read again at every sign-in, so a test can change an account's email at the provider. A
// subject that is not listed has email = sub, and `email_verified` = default_email_verified
// (left out when null).
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const [port, settingsPath] = process.argv.slice(2);
const settings = () => JSON.parse(readFileSync(settingsPath, 'utf8'));

function claimsOf(sub) {
  const { accounts = {}, default_email_verified: verified = true } = settings();
  if (accounts[sub]) return { ...accounts[sub], sub };
  const claims = { sub, email: sub };
  if (verified !== null) claims.email_verified = verified;
  return claims;
}

const provider = new Provider(`http://localhost:${port}`, {
  clients: settings().clients.map((client) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    ...client,
  })),
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  cookies: { keys: ['test-only-cookie-key'] },
  async findAccount(_ctx, sub) {
    return { accountId: sub, claims: async () => claimsOf(sub) };
  },
  // A first-party client: the person is not asked to consent (the recipe from the
  // provider's documentation), so signing in is one form, as with a company SSO.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
});

provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`oidc provider listening on ${port}`);
});
