#!/usr/bin/env node
// Starts the `telegram-test-api` Telegram Bot API emulator for the end-to-end tests and prints its port.
//
//   node scripts/telegram-emulator.mjs [--port 0] [--host 127.0.0.1]
//
// Prints one line `PORT <n>` on stdout once listening; exits on SIGTERM/SIGINT or when stdin closes (so a
// crashed test run never leaves it behind). The emulator (4.2.1) lacks a few things python-telegram-bot needs;
// routes added to the front of its route list (read in the constructor) patch them:
//   1. getMe lacks `is_bot`                        -> serve a full bot User.
//   2. sendMessage results: `date` in ms, no `from` -> seconds and a `from`.
//   3. callback queries lack `chat_instance`       -> add one.
//   4. editMessageText returns `result: null`      -> return the stored message.
//   5. sendChatAction, setMyCommands, ... missing  -> no-op `true` results.
// For the chat-experience tests (documents, edits, menus, typing), as the real Bot API behaves:
//   6. calls of setMyCommands, sendChatAction, editMessageText, editMessageReplyMarkup and getFile are recorded
//      per token; the client reads them with POST /recordedCalls {token}.
//   7. files: the client stores bytes with POST /putFile {botToken, file_id, base64}; the bot gets them with
//      getFile (-> file_path) and GET /file/bot<token>/<file_path>. The emulator had neither.
//   8. editMessageText / editMessageReplyMarkup replace the keyboard (a missing reply_markup removes it) and
//      return the edited message, as Telegram does.
//   9. edited messages: POST /sendEditedMessage {botToken, message_id, chat, from, text} delivers an
//      `edited_message` update for an earlier message.
// Two more, to make webhook mode faithful: updates are POSTed with the `X-Telegram-Bot-Api-Secret-Token` header
// given to setWebhook (as the real Bot API does), and a failed webhook POST is logged instead of killing Node 20
// (unhandledRejection).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const TelegramServer = require('telegram-test-api');
const { routes } = require('telegram-test-api/lib/routes/index.js');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const BOT_USER = {
  id: 666,
  is_bot: true,
  first_name: 'CCHC Test Bot',
  username: 'TestNameBot',
  can_join_groups: true,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
};

const seconds = (ms) => Math.floor(Number(ms) / 1000);
const recorded = {}; // token -> [{method, body}]
const files = {}; // token -> file_id -> Buffer
const RECORDED = new Set(['setMyCommands', 'sendChatAction', 'editMessageText', 'editMessageReplyMarkup', 'getFile']);

function parsed(body) {
  // PTB posts form fields with JSON-encoded objects (reply_markup, scope, commands): decode them.
  const out = {};
  for (const [k, v] of Object.entries(body || {})) {
    if (typeof v === 'string' && /^[[{]/.test(v)) {
      try { out[k] = JSON.parse(v); continue; } catch (_e) { /* keep the string */ }
    }
    out[k] = v;
  }
  return out;
}

function findBotMessage(server, body) {
  return server.storage.botMessages.find((u) => (
    String(u.messageId) === String(body.message_id) && String(u.message.chat_id) === String(body.chat_id)));
}

// Bot-side message as the real API returns it: date in seconds, `from` the bot, a chat with an integer id.
function asTelegramMessage(stored, messageId) {
  const m = stored.message;
  let markup = m.reply_markup;
  if (typeof markup === 'string') markup = JSON.parse(markup);
  const out = {
    message_id: messageId,
    from: BOT_USER,
    date: seconds(stored.time),
    chat: { id: Number(m.chat_id), type: 'private', first_name: 'User' },
    text: m.text,
  };
  if (markup && markup.inline_keyboard) out.reply_markup = markup;
  return out;
}

const patches = [
  // 6. record calls
  (app) => app.all('/bot:token/:method', (req, _res, next) => {
    if (RECORDED.has(req.params.method)) {
      (recorded[req.params.token] ||= []).push({ method: req.params.method, body: parsed(req.body) });
    }
    next();
  }),
  (app) => app.post('/recordedCalls', (req, res) => res.json({ ok: true, result: recorded[req.body.token] || [] })),
  // 7. files
  (app) => app.post('/putFile', (req, res) => {
    (files[req.body.botToken] ||= {})[req.body.file_id] = Buffer.from(req.body.base64, 'base64');
    res.json({ ok: true, result: true });
  }),
  (app) => app.all('/bot:token/getFile', (req, res) => {
    const fileId = (req.body && req.body.file_id) || req.query.file_id;
    const data = (files[req.params.token] || {})[fileId];
    if (!data) {
      res.status(400).json({ ok: false, error_code: 400, description: 'Bad Request: invalid file_id' });
      return;
    }
    res.json({ ok: true, result: { file_id: fileId, file_unique_id: `u${fileId}`, file_size: data.length, file_path: `documents/${fileId}` } });
  }),
  (app) => app.get('/file/bot:token/documents/:fileId', (req, res) => {
    const data = (files[req.params.token] || {})[req.params.fileId];
    if (!data) { res.status(404).end(); return; }
    res.type('application/octet-stream').send(data);
  }),
  // 9. edited messages
  (app, server) => app.post('/sendEditedMessage', async (req, res) => {
    const { botToken, ...message } = req.body;
    await server.addUserUpdate({ ...server.getCommonFields(botToken), message, edited: true });
    res.json({ ok: true, result: null });
  }),
  // 1. getMe
  (app) => app.all('/bot:token/getMe', (_req, res) => res.json({ ok: true, result: BOT_USER })),
  // 2. sendMessage
  (app, server) => app.all('/bot:token/sendMessage', (req, res) => {
    if (!req.body || !req.body.chat_id || !req.body.text) {
      res.status(400).json({ ok: false, error_code: 400, description: 'Bad Request: chat_id and text are required' });
      return;
    }
    const sent = server.addBotMessage(req.body, req.params.token);
    const stored = server.storage.botMessages[server.storage.botMessages.length - 1];
    res.json({ ok: true, result: asTelegramMessage(stored, sent.message_id) });
  }),
  // 4. + 8. editMessageText, editMessageReplyMarkup
  (app, server) => app.all(/^\/bot([^/]+)\/(editMessageText|editMessageReplyMarkup)$/, (req, res) => {
    const body = parsed(req.body);
    const stored = findBotMessage(server, body);
    if (!stored) {
      res.status(400).json({ ok: false, error_code: 400, description: 'Bad Request: message to edit not found' });
      return;
    }
    const next = { ...stored.message };
    if (req.params[1] === 'editMessageText') {
      next.text = body.text;
      if (body.parse_mode) next.parse_mode = body.parse_mode; else delete next.parse_mode;
    }
    if (body.reply_markup && body.reply_markup.inline_keyboard) next.reply_markup = body.reply_markup;
    else delete next.reply_markup;
    next.edited = (stored.message.edited || 0) + 1;
    stored.message = next;
    res.json({ ok: true, result: asTelegramMessage(stored, stored.messageId) });
  }),
  // 5. no-op methods a bot may call
  (app) => app.all(
    /^\/bot[^/]+\/(sendChatAction|setMyCommands|deleteMyCommands|setMyDescription|setChatMenuButton)$/,
    (_req, res) => res.json({ ok: true, result: true }),
  ),
  // getWebhookInfo (PTB may call it; the real API always answers)
  (app, server) => app.all('/bot:token/getWebhookInfo', (req, res) => {
    const hook = server.webhooks[req.params.token];
    res.json({ ok: true, result: { url: hook ? hook.url : '', has_custom_certificate: false, pending_update_count: 0 } });
  }),
  (app, server) => app.all('/bot:token/setWebhook', (req, res) => {
    const hook = req.body && req.body.url ? req.body : req.query;
    if (!hook.url) {
      res.status(400).json({ ok: false, error_code: 400, description: 'Bad Request: bad webhook: URL is empty' });
      return;
    }
    server.setWebhook({ url: hook.url, secret_token: hook.secret_token || '' }, req.params.token);
    res.json({ ok: true, result: true, description: 'Webhook was set' });
  }),
];

// 3. callback queries get a `chat_instance` (and the message a date in seconds).
const formatUpdate = TelegramServer.formatUpdate;
TelegramServer.formatUpdate = function patchedFormatUpdate(update) {
  const out = formatUpdate.call(this, update);
  if (update.edited && out.message) {
    const { message } = out;
    delete out.message;
    out.edited_message = { ...message, message_id: Number(update.message.message_id), edit_date: seconds(Date.now()) };
    return out;
  }
  if (out.callback_query) {
    const chatId = out.callback_query.message && out.callback_query.message.chat
      ? out.callback_query.message.chat.id : out.callback_query.from.id;
    out.callback_query.chat_instance = String(chatId);
  }
  return out;
};

// Webhook POSTs carry the secret token given to setWebhook.
TelegramServer.prototype.addUserUpdate = async function patchedAddUserUpdate(update) {
  if (!update.botToken) throw new Error('The message must contain a `botToken` field.');
  const webhook = this.webhooks[update.botToken];
  const updateId = this.updateId;
  this.updateId++;
  update.updateId = updateId;
  if (!webhook) {
    this.storage.userMessages.push(update);
    return;
  }
  const headers = { 'Content-Type': 'application/json' };
  if (webhook.secret_token) headers['X-Telegram-Bot-Api-Secret-Token'] = webhook.secret_token;
  const resp = await fetch(webhook.url, {
    method: 'POST', headers, body: JSON.stringify(TelegramServer.formatUpdate(update)),
  });
  await resp.arrayBuffer();
  if (resp.status > 204) {
    console.error(`webhook POST to ${webhook.url} answered ${resp.status}`);
  }
};

process.on('unhandledRejection', (reason) => {
  console.error(`unhandled rejection: ${reason && reason.stack ? reason.stack : reason}`);
});

routes.unshift(...patches);

const server = new TelegramServer({
  host: arg('host', '127.0.0.1'),
  port: arg('port', '0'),
  storeTimeout: Number(arg('store-timeout', '600')),
});
await server.start();
process.stdout.write(`PORT ${server.server.address().port}\n`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await server.stop().catch(() => {});
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
