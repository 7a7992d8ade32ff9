import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { slack, slackChallenge } from '../../../src/sources/presets/slack.js';
import { ingestRequest, ingestSource } from '../../helpers/fixtures.js';
import { flipLastByte, outcome } from '../../helpers/verify.js';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const NOW = 1_700_000_000;
const eventBody = '{"type":"event_callback","event_id":"Ev08MFMKH6","event":{"type":"app_mention","text":"hi"}}';
const commandBody = 'token=x&team_id=T1&command=%2Fdeploy&text=api+now&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1';

/** As Slack documents it (there is no official signer): v0= + hex HMAC-SHA256 of "v0:<ts>:<body>". */
function signed(body: string, opts: { at?: number; secret?: string } = {}): Record<string, string> {
  const at = String(opts.at ?? NOW);
  const mac = createHmac('sha256', opts.secret ?? SECRET).update(`v0:${at}:${body}`).digest('hex');
  return { 'x-slack-signature': `v0=${mac}`, 'x-slack-request-timestamp': at };
}
const verify = (h: Record<string, string>, body: string | Buffer, secrets = [SECRET], now = NOW) =>
  outcome(() => slack.verify(ingestRequest(h, body), ingestSource({ preset: 'SLACK', secrets }), now));

describe('SLACK preset', () => {
  it("matches the example in Slack's signing documentation", () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    const h = { 'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503', 'x-slack-request-timestamp': '1531420618' };
    expect(verify(h, body, [SECRET], 1531420618)).toBe('OK');
  });

  it.each([
    ['an Events API post', signed(eventBody), eventBody, [SECRET], NOW, 'OK'],
    ['a slash command form', signed(commandBody), commandBody, [SECRET], NOW, 'OK'],
    ['a wrong secret', signed(eventBody, { secret: 'other' }), eventBody, [SECRET], NOW, 'INVALID_SIGNATURE'],
    ['a changed body byte', signed(eventBody), flipLastByte(eventBody), [SECRET], NOW, 'INVALID_SIGNATURE'],
    ['a timestamp 301 s old', signed(eventBody, { at: NOW - 301 }), eventBody, [SECRET], NOW, 'INVALID_SIGNATURE'],
    ['a timestamp 300 s old', signed(eventBody, { at: NOW - 300 }), eventBody, [SECRET], NOW, 'OK'],
    ['a timestamp ahead (past-only window)', signed(eventBody, { at: NOW + 3600 }), eventBody, [SECRET], NOW, 'OK'],
    ['the new secret of two (rotation)', signed(eventBody, { secret: 'new' }), eventBody, ['old', 'new'], NOW, 'OK'],
    ['the old secret of two (rotation)', signed(eventBody, { secret: 'old' }), eventBody, ['old', 'new'], NOW, 'OK'],
  ])('%s → %s', (_name, h, body, secrets, now, expected) => {
    expect(verify(h, body, secrets, now)).toBe(expected);
  });

  it('refuses a missing signature or timestamp header', () => {
    const h = signed(eventBody);
    expect(verify({ 'x-slack-request-timestamp': h['x-slack-request-timestamp']! }, eventBody)).toBe('MISSING_SIGNATURE');
    expect(verify({ 'x-slack-signature': h['x-slack-signature']! }, eventBody)).toBe('MISSING_SIGNATURE');
  });

  it('refuses malformed headers before decoding', () => {
    const h = signed(eventBody);
    const good = h['x-slack-signature']!;
    for (const bad of [good.toUpperCase(), good.replace('v0=', 'v1='), good.slice(0, -1), `${good}0`, good.slice(3), '']) {
      expect(verify({ ...h, 'x-slack-signature': bad }, eventBody), bad).toBe('MALFORMED_SIGNATURE');
    }
    expect(verify({ ...h, 'x-slack-request-timestamp': 'soon' }, eventBody)).toBe('MALFORMED_SIGNATURE');
  });

  it('types events by event.type, else type, else the slash command, else an interaction type', () => {
    const typeOf = (body: string) => slack.readEventType!(ingestRequest({}, body));
    expect(typeOf(eventBody)).toBe('app_mention');
    expect(typeOf('{"type":"app_rate_limited","minute_rate_limited":1}')).toBe('app_rate_limited');
    expect(typeOf(commandBody)).toBe('/deploy');
    expect(typeOf(`payload=${encodeURIComponent('{"type":"block_actions","actions":[]}')}`)).toBe('block_actions');
    expect(typeOf('{"unrelated":true}')).toBeUndefined();
    expect(slack.idempotencyKey).toEqual({ from: 'json', path: ['event_id'] });
    expect(slack.requiresJson).toBe(false);
  });

  it('hands back the challenge of a url_verification request only', () => {
    const challenge = '{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}';
    expect(verify(signed(challenge), challenge)).toBe('OK');
    expect(slackChallenge(ingestRequest({}, challenge))).toBe('3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P');
    expect(slackChallenge(ingestRequest({}, eventBody))).toBeUndefined();
    expect(slackChallenge(ingestRequest({}, commandBody))).toBeUndefined();
  });
});
