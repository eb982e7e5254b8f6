// A certified OpenID Connect provider (panva's oidc-provider, OpenID Certified) on loopback, configured strictly,
// for the portal's sign-in tests. The tests start it with node, register the portal through dynamic client
// registration, sign in through its own login and consent pages in Chromium, and read and change its state
// through /test/... (users' groups, disabled accounts, counters).
//
//   node server.mjs <config.json>      prints "listening <issuer>" on standard output once it accepts requests
//
// config.json: { "port": 0, "host": "127.0.0.1", "claimsInIdToken": true, "accessTokenSeconds": 120,
//                "users": { "dana": { "name": "Dana Developer", "groups": ["developers"] } } }
//
// Strict on purpose, as the specifications allow a provider to be:
// - offline_access (and so a refresh token) is granted only when the client asked for consent (prompt=consent),
//   as OpenID Connect Core 1.0 section 11 says;
// - access and ID tokens live accessTokenSeconds (120 s by default);
// - every refresh rotates the refresh token, and presenting a used one revokes the whole grant (reuse detection);
// - with claimsInIdToken false, the ID token carries only the subject, and name and groups come only from userinfo
//   (the provider's conformIdTokenClaims behaviour).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const users = new Map(Object.entries(config.users ?? {}).map(([id, u]) => [id, { disabled: false, groups: [], ...u }]));
const seconds = config.accessTokenSeconds ?? 120;
const counters = { refreshGrants: 0, refreshErrors: 0, codeGrants: 0, endSessions: 0, revokedGrants: 0, userinfo: 0 };

const server = createServer();
await new Promise((resolve) => server.listen(config.port ?? 0, '127.0.0.1', resolve));
// The name browsers use for it: "localhost" puts it on the same site as a portal at http://localhost, as in docker-compose.
const issuer = `http://${config.host ?? '127.0.0.1'}:${server.address().port}`;

const provider = new Provider(issuer, {
  findAccount: async (_ctx, id) => {
    const user = users.get(id);
    if (!user || user.disabled) {
      return undefined; // the provider then refuses the code and refresh grants for this account
    }
    return {
      accountId: id,
      claims: async () => ({ sub: id, name: user.name, groups: [...user.groups] }),
    };
  },
  claims: { openid: ['sub'], profile: ['name'], groups: ['groups'] },
  scopes: ['openid', 'offline_access', 'profile', 'groups'],
  conformIdTokenClaims: !(config.claimsInIdToken ?? true),
  ttl: {
    AccessToken: seconds,
    IdToken: seconds,
    AuthorizationCode: 60,
    Interaction: 600,
    Session: 86400,
    Grant: 86400,
    RefreshToken: 86400,
  },
  rotateRefreshToken: true,
  features: {
    devInteractions: { enabled: true }, // the provider's own login (any password) and consent pages
    registration: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    revocation: { enabled: true },
  },
  cookies: { keys: ['deployportal-test-idp-cookie-key'] },
  pkce: { required: () => true },
  clientDefaults: {
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: 'RS256',
  },
});

provider.on('grant.success', (ctx) => {
  if (ctx.oidc.params.grant_type === 'refresh_token') counters.refreshGrants++;
  if (ctx.oidc.params.grant_type === 'authorization_code') counters.codeGrants++;
});
provider.on('grant.error', (ctx) => {
  if (ctx.oidc.params?.grant_type === 'refresh_token') counters.refreshErrors++;
});
provider.on('grant.revoked', () => counters.revokedGrants++);
provider.on('end_session.success', () => counters.endSessions++);

// The test's controls. Only on loopback, only in tests.
provider.use(async (ctx, next) => {
  if (ctx.path === '/me') { // the userinfo endpoint; the provider raises no event for a success
    await next();
    if (ctx.status === 200) counters.userinfo++;
    return undefined;
  }
  if (!ctx.path.startsWith('/test/')) {
    return next();
  }
  if (ctx.method === 'GET' && ctx.path === '/test/counters') {
    ctx.body = counters;
    return undefined;
  }
  const match = /^\/test\/users\/([^/]+)$/.exec(ctx.path);
  if (ctx.method === 'POST' && match) {
    const chunks = [];
    for await (const chunk of ctx.req) chunks.push(chunk);
    const change = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    const id = decodeURIComponent(match[1]);
    users.set(id, { disabled: false, groups: [], ...users.get(id), ...change });
    ctx.status = 204;
    return undefined;
  }
  ctx.status = 404;
  return undefined;
});

server.on('request', provider.callback());
process.on('SIGTERM', () => server.close(() => process.exit(0)));
console.log(`listening ${issuer}`);
