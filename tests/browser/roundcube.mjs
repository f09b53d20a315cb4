// verdon's Roundcube plugin driven in Debian's headless Chromium: the two-step login, the Inbox,
// a mail sent and opened, an idle window, wrong / replayed / recovery codes, too many codes, a
// locked account, first login, password change, logout and a revoked token.
//
// Run by tests/integration/46_roundcube.sh, which starts verdond, Dovecot, Postfix and Roundcube
// and creates the accounts; it passes everything through the environment (see need()). What a
// browser cannot check (the token Roundcube holds, IMAP with it, delivery, revocation) it asks
// the scenario's helper script (RC_HELPER). Prints "ok - …" / "not ok - …" lines; exits 1 when
// anything failed.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { assert, check, checkAlone, need, notOk, runFlow, summary, totpAt } from './tap.mjs';

const WAIT_MS = 45000; // every wait for a page (Roundcube under php -S on a loaded machine)
const TOTAL_MS = 400000; // the whole run: a hung browser must not hang `make check`
const PHONE = { width: 360, height: 740 };
const DESKTOP = { width: 1280, height: 800 };

const BASE = need('RC_URL').replace(/\/$/, '');
const HELPER = need('RC_HELPER');
const ARTIFACTS = need('RC_ARTIFACTS');
const IDLE_S = Number(need('RC_IDLE_S'));
const TRUST_DAYS = Number(need('RC_TRUST_DAYS')); // 0: the daemon has no trusted browsers
const ME = { login: need('RC_LOGIN'), password: need('RC_PASSWORD'), secret: need('RC_SECRET'), lastStep: Number(need('RC_LAST_STEP')), drift: 0 };
// jdupont's recovery codes: one for the recovery-code step, the others for logins whose code
// is not what they test (each TOTP code must wait for its own 30-second step).
const RECOVERY = need('RC_RECOVERY').split(',');
const NEW_PASSWORD = need('RC_NEW_PASSWORD');
const OTHER = { login: need('RC_LOGIN2'), password: need('RC_PASSWORD2'), secret: need('RC_SECRET2'), lastStep: Number(need('RC_LAST_STEP2')), drift: 0 };
const FIRST = { login: need('RC_LOGIN3'), password: need('RC_PASSWORD3') };
const NO_OTP = { login: need('RC_LOGIN4'), password: need('RC_PASSWORD4') };

const flow = runFlow;

function helper(args, input) {
	try {
		return { rc: 0, out: execFileSync(HELPER, args, { input: input ?? '', timeout: 30000 }).toString().trim() };
	} catch (e) {
		return { rc: e.status ?? 2, out: (e.stdout || '').toString().trim() };
	}
}

// The next code of a person's authenticator, as verdon will take it: a step after the last one
// used (a step is accepted once) within ±1 of now plus the drift verdon learnt from the last
// accepted code (daemon/otp.c), which is what a phone running slightly fast looks like. Waits for
// the clock when no step is left, and never picks a step about to leave the window.
const DRIFT_MAX = 3; // daemon/otpcheck.c keeps at most 4
async function nextCode(who) {
	for (;;) {
		const now = Date.now() / 30000;
		const cur = Math.floor(now);
		const centre = cur + who.drift;
		let step = Math.max(centre - 1, who.lastStep + 1);
		if (step === centre - 1 && now - cur > 0.8) step++;
		if (step <= centre + 1 && Math.abs(step - cur) <= DRIFT_MAX) {
			who.lastStep = step;
			who.drift = step - cur;
			who.lastCode = totpAt(who.secret, step);
			return who.lastCode;
		}
		await new Promise((r) => setTimeout(r, 1000));
	}
}
function wrongCode(secret) {
	const cur = Math.floor(Date.now() / 30000);
	const valid = new Set();
	for (let s = cur - 3; s <= cur + 6; s++) valid.add(totpAt(secret, s));
	return ['000000', '111111', '222222'].find((c) => !valid.has(c));
}

// --- pages ----------------------------------------------------------------------------------

let shotN = 0;
// A screenshot of the page at phone and desktop width, whatever the page's own width.
async function shot(page, name) {
	const size = page.viewportSize();
	shotN++;
	const n = String(shotN).padStart(2, '0');
	for (const [tag, vp] of [['phone', PHONE], ['desktop', DESKTOP]]) {
		await page.setViewportSize(vp);
		await page.waitForTimeout(300);
		await page.screenshot({ path: join(ARTIFACTS, `${n}-${name}-${tag}.png`), timeout: WAIT_MS });
	}
	await page.setViewportSize(size);
}
async function visible(page, sel) {
	await page.waitForSelector(sel, { state: 'visible', timeout: WAIT_MS });
}
// The message Roundcube shows (#messagestack), waited for until it contains `want`.
async function message(page, want) {
	try {
		await page.waitForFunction(
			(w) => (document.querySelector('#messagestack')?.textContent || '').includes(w),
			want,
			{ timeout: WAIT_MS },
		);
	} catch {
		const m = await page.evaluate(() => document.querySelector('#messagestack')?.textContent || '');
		throw new Error(`no message "${want}" (shown: "${m.trim()}")`);
	}
}
async function openLogin(page) {
	await page.goto(`${BASE}/?_task=login`, { waitUntil: 'load', timeout: WAIT_MS });
	await visible(page, '#rcmloginuser');
}
async function typeLogin(page, login, password) {
	await page.fill('#rcmloginuser', login);
	await page.fill('#rcmloginpwd', password);
	await Promise.all([page.waitForNavigation({ timeout: WAIT_MS }), page.click('#rcmloginsubmit')]);
}
async function typeCode(page, code, trust = false) {
	await visible(page, '#verdon-code');
	await page.fill('#verdon-code', code);
	if (trust) {
		await page.click('label[for="verdon-trust"]', { timeout: WAIT_MS }); // Elastic's switch
		assert(await page.isChecked('#verdon-trust'), 'the trusted-browser box is ticked');
	}
	await Promise.all([page.waitForNavigation({ timeout: WAIT_MS }), page.click('#verdon-submit')]);
}
async function inInbox(page) {
	await page.waitForSelector('#messagelist', { state: 'attached', timeout: WAIT_MS });
	assert(new URL(page.url()).searchParams.get('_task') === 'mail', `not in the mail task: ${page.url()}`);
}
async function fullLogin(page, who, trust = false, recovery = false) {
	await openLogin(page);
	await typeLogin(page, who.login, who.password);
	await typeCode(page, recovery && RECOVERY.length ? RECOVERY.shift() : await nextCode(who), trust);
	await inInbox(page);
}

// --- the flows ------------------------------------------------------------------------------

async function flowMain(page) {
	await check('the login form is Roundcube\'s, in French', async () => {
		await openLogin(page);
		const lang = await page.getAttribute('html', 'lang');
		assert(/^fr/.test(lang || ''), `<html lang="${lang}">`);
	});
	await checkAlone('screenshot: login form', () => shot(page, 'login'));
	await check('identifiant + password leads to the code page', async () => {
		await typeLogin(page, ME.login, ME.password);
		await visible(page, '#verdon-code');
		const t = await page.textContent('#verdon-title');
		assert(t.includes('Code à usage unique'), `title: ${t}`);
	});
	await check('the code field brings the numeric keyboard and the one-time-code autofill', async () => {
		assert((await page.getAttribute('#verdon-code', 'inputmode')) === 'numeric', 'inputmode');
		assert((await page.getAttribute('#verdon-code', 'autocomplete')) === 'one-time-code', 'autocomplete');
		const w = await page.evaluate(() => document.documentElement.scrollWidth);
		await page.setViewportSize(PHONE);
		const wp = await page.evaluate(() => document.documentElement.scrollWidth);
		await page.setViewportSize(DESKTOP);
		assert(wp <= PHONE.width, `the code page is ${wp} px wide on a ${PHONE.width} px phone (desktop: ${w})`);
	});
	await checkAlone('screenshot: code page', () => shot(page, 'code'));
	await check('a wrong code keeps the person on the code page, with a message', async () => {
		await typeCode(page, wrongCode(ME.secret))
		await visible(page, '#verdon-code');
		await message(page, 'Code incorrect');
	});
	await checkAlone('screenshot: wrong code', () => shot(page, 'code-wrong'));
	await check('the right code opens the Inbox', async () => {
		await typeCode(page, await nextCode(ME));
		await inInbox(page);
	});
	await checkAlone('screenshot: Inbox', () => shot(page, 'inbox'));
	await check('Roundcube\'s IMAP password is a verdon session token (vt-…), not the password', async () => {
		const t = helper(['token']);
		assert(t.rc === 0 && t.out.startsWith('vt-'), `helper token: exit ${t.rc}`);
		ME.token = t.out;
	});
}

const SUBJECT = `Essai verdon ${process.pid}`;

async function flowMail(page) {
	await check('a mail written in Roundcube is sent through Postfix with the token (SMTP AUTH)', async () => {
		await page.goto(`${BASE}/?_task=mail&_action=compose&_to=${ME.login}@example.org`, { waitUntil: 'load', timeout: WAIT_MS });
		await visible(page, '#compose-subject');
		await page.fill('#compose-subject', SUBJECT);
		await page.fill('#composebody', 'Bonjour,\nceci est un essai.\n');
		await Promise.all([
			page.waitForURL((u) => !/_action=compose/.test(u.search), { timeout: WAIT_MS }),
			page.evaluate(() => window.rcmail.command('send', {})),
		]);
		// Roundcube leaves the compose page only once the message is sent.
		await page.waitForLoadState('networkidle', { timeout: WAIT_MS });
	});
	await checkAlone('screenshot: mail sent', () => shot(page, 'sent'));
	await check('… and delivered to the mailbox', async () => {
		const d = helper(['delivered', SUBJECT]);
		assert(d.rc === 0, `no message with "${SUBJECT}" in the Maildir (helper exit ${d.rc})`);
	});
	await check('the message shows in the Inbox and opens', async () => {
		await page.goto(`${BASE}/?_task=mail&_mbox=INBOX`, { waitUntil: 'load', timeout: WAIT_MS });
		await page.locator('#messagelist tr', { hasText: SUBJECT }).first().waitFor({ state: 'attached', timeout: WAIT_MS });
		const uid = await page.evaluate((subject) => {
			const rows = window.rcmail.message_list.rows;
			return Object.keys(rows).find((k) => rows[k].obj.textContent.includes(subject));
		}, SUBJECT);
		assert(uid, 'the message list has no row with the subject');
		await page.goto(`${BASE}/?_task=mail&_mbox=INBOX&_uid=${encodeURIComponent(uid)}&_action=show`, { waitUntil: 'load', timeout: WAIT_MS });
		await page.waitForFunction((w) => document.body.innerText.includes(w), 'ceci est un essai', { timeout: WAIT_MS });
	});
	await checkAlone('screenshot: message opened', () => shot(page, 'message'));
}

async function flowIdle(page, others) {
	const t0 = Date.now();
	await others(); // another browser meanwhile: this one stays idle
	const left = IDLE_S * 1000 - (Date.now() - t0);
	if (left > 0) await page.waitForTimeout(left);
	const idle = Math.round((Date.now() - t0) / 1000);
	await check(`after ${idle} s idle, another folder opens (IMAP logs in again with the token)`, async () => {
		await page.goto(`${BASE}/?_task=mail&_mbox=Sent`, { waitUntil: 'load', timeout: WAIT_MS });
		await inInbox(page);
		await page.locator('#messagelist tr', { hasText: SUBJECT }).first().waitFor({ state: 'attached', timeout: WAIT_MS });
		await page.goto(`${BASE}/?_task=mail&_mbox=INBOX`, { waitUntil: 'load', timeout: WAIT_MS });
		await inInbox(page);
	});
	await checkAlone('screenshot: Inbox after the idle window', () => shot(page, 'inbox-after-idle'));
}

async function flowPassword(page) {
	await check('the password plugin\'s form asks for the code too', async () => {
		await page.goto(`${BASE}/?_task=settings&_action=plugin.password`, { waitUntil: 'load', timeout: WAIT_MS });
		await visible(page, '#curpasswd');
		await visible(page, '#verdon-passwd-code');
	});
	await check('a new password verdon\'s policy refuses is refused with its reason, in French', async () => {
		await page.fill('#curpasswd', ME.password);
		await page.fill('#newpasswd', 'court');
		await page.fill('#confpasswd', 'court');
		await page.fill('#verdon-passwd-code', await nextCode(ME));
		await Promise.all([page.waitForNavigation({ timeout: WAIT_MS }), page.evaluate(() => window.rcmail.command('plugin.password-save'))]);
		await message(page, 'trop court');
	});
	await checkAlone('screenshot: password refused', () => shot(page, 'password-refused'));
	await check('the password changes through verdon (current password + code)', async () => {
		await visible(page, '#curpasswd');
		await page.fill('#curpasswd', ME.password);
		await page.fill('#newpasswd', NEW_PASSWORD);
		await page.fill('#confpasswd', NEW_PASSWORD);
		await page.fill('#verdon-passwd-code', await nextCode(ME));
		await Promise.all([page.waitForNavigation({ timeout: WAIT_MS }), page.evaluate(() => window.rcmail.command('plugin.password-save'))]);
		await message(page, 'Enregistré');
		ME.password = NEW_PASSWORD;
	});
	await checkAlone('screenshot: password changed', () => shot(page, 'password-changed'));
	await check('… which ended the session: the next page is the login form, saying why', async () => {
		await page.goto(`${BASE}/?_task=mail&_mbox=INBOX`, { waitUntil: 'load', timeout: WAIT_MS });
		await visible(page, '#rcmloginuser');
		await message(page, 'mot de passe a été changé');
	});
	await check('the new password + a (recovery) code opens the Inbox', () => fullLogin(page, ME, false, true));
}

async function flowLogout(page) {
	let token;
	await check('the session\'s token logs in to IMAP directly while the session lives', async () => {
		const t = helper(['token']);
		assert(t.rc === 0 && t.out.startsWith('vt-'), `helper token: exit ${t.rc}`);
		token = t.out;
		const r = helper(['imap', ME.login], token);
		assert(r.rc === 0, `IMAP LOGIN with the token: exit ${r.rc}`);
	});
	await check('logout shows the login form', async () => {
		await Promise.all([page.waitForNavigation({ timeout: WAIT_MS }), page.evaluate(() => window.rcmail.command('logout'))]);
		await visible(page, '#rcmloginuser');
		await message(page, 'mis fin à cette session');
	});
	await checkAlone('screenshot: logged out', () => shot(page, 'logout'));
	await check('after logout the token no longer logs in to IMAP (checked directly)', async () => {
		const r = helper(['imap', ME.login], token);
		assert(r.rc === 1, `IMAP LOGIN with the token after logout: exit ${r.rc}, expected 1 (refused)`);
	});
}

async function flowRevoked(page) {
	await check('login again (password + code)', async () => {
		await fullLogin(page, ME, false, true);
		await page.waitForLoadState('networkidle', { timeout: WAIT_MS }); // the Inbox's own requests are done
	});
	await check('verdonctl session revoke --all', async () => {
		const r = helper(['revoke', ME.login]);
		assert(r.rc === 0, `verdonctl session revoke: exit ${r.rc}`);
	});
	await check('the next page is the login form with "Votre session a expiré", not a storage error', async () => {
		await page.goto(`${BASE}/?_task=mail&_mbox=Sent`, { waitUntil: 'load', timeout: WAIT_MS });
		await visible(page, '#rcmloginuser');
		await message(page, 'Votre session a expiré');
	});
	await checkAlone('screenshot: session expired', () => shot(page, 'session-expired'));
}

async function logout(page) {
	// Roundcube ignores a command while it is busy (the message list still loading, say).
	await page.waitForFunction(() => window.rcmail && !window.rcmail.busy, null, { timeout: WAIT_MS });
	await Promise.all([page.waitForNavigation({ timeout: WAIT_MS }), page.evaluate(() => window.rcmail.command('logout'))]);
	await visible(page, '#rcmloginuser');
}
function devices() {
	const r = helper(['devices', ME.login]);
	assert(r.rc === 0, `verdonctl device list: exit ${r.rc}`);
	const rows = JSON.parse(r.out || '[]');
	return Array.isArray(rows) ? rows : rows.devices || [];
}

async function flowTrusted(page) {
	await check(`the code page offers « Ne plus demander de code sur ce navigateur pendant ${TRUST_DAYS} jours »`, async () => {
		await openLogin(page);
		await typeLogin(page, ME.login, ME.password);
		await visible(page, '#verdon-trust');
		const t = await page.textContent('label[for="verdon-trust"]');
		assert(t.includes(`Ne plus demander de code sur ce navigateur pendant ${TRUST_DAYS} jours`), `label: ${t}`);
	});
	await checkAlone('screenshot: code page with the trusted-browser box', () => shot(page, 'code-trust'));
	await check('ticked, the code opens the Inbox and leaves an HttpOnly, SameSite=Strict cookie', async () => {
		await typeCode(page, await nextCode(ME), true);
		await inInbox(page);
		const c = (await page.context().cookies()).find((x) => x.name === 'verdon_device');
		assert(c, 'no verdon_device cookie');
		assert(c.httpOnly && c.sameSite === 'Strict', `cookie: httpOnly=${c.httpOnly} sameSite=${c.sameSite}`);
		assert(/^vd-/.test(c.value), 'the cookie holds a device secret');
		assert(c.expires * 1000 <= Date.now() + TRUST_DAYS * 86400000 + 60000, `expires ${c.expires}`);
	});
	await check('verdonctl device list shows the browser, trusted, named after it', async () => {
		const rows = devices();
		assert(rows.length === 1, `${rows.length} devices: ${JSON.stringify(rows)}`);
		assert(/Chrome/.test(rows[0].label) && String(rows[0].trusted) !== '0' && rows[0].trusted !== false,
			`device: ${JSON.stringify(rows[0])}`);
	});
	await check('after logout, the password alone opens the Inbox on this browser', async () => {
		await logout(page);
		await typeLogin(page, ME.login, ME.password);
		await inInbox(page);
	});
	await checkAlone('screenshot: Inbox without a code (trusted browser)', () => shot(page, 'inbox-trusted'));
	await check('another browser still gets the code page', async () => {
		const other = await page.context().browser().newContext({ viewport: PHONE, locale: 'fr-FR' });
		try {
			const p2 = await other.newPage();
			await openLogin(p2);
			await typeLogin(p2, ME.login, ME.password);
			await visible(p2, '#verdon-code');
		} finally {
			await other.close();
		}
	});
	await check('revoked with verdonctl device revoke, the browser needs the code again', async () => {
		await logout(page);
		assert(helper(['device-revoke', ME.login]).rc === 0, 'verdonctl device revoke');
		await typeLogin(page, ME.login, ME.password);
		await visible(page, '#verdon-code');
	});
	await check('trusted again (box ticked with a recovery code)', async () => {
		await typeCode(page, RECOVERY.shift() || (await nextCode(ME)), true);
		await inInbox(page);
	});
	await check('a password change revokes it: the code page again', async () => {
		await page.goto(`${BASE}/?_task=settings&_action=plugin.password`, { waitUntil: 'load', timeout: WAIT_MS });
		await visible(page, '#curpasswd');
		await page.fill('#curpasswd', ME.password);
		await page.fill('#newpasswd', `${NEW_PASSWORD}-2`);
		await page.fill('#confpasswd', `${NEW_PASSWORD}-2`);
		await page.fill('#verdon-passwd-code', await nextCode(ME));
		await Promise.all([page.waitForNavigation({ timeout: WAIT_MS }), page.evaluate(() => window.rcmail.command('plugin.password-save'))]);
		await message(page, 'Enregistré');
		ME.password = `${NEW_PASSWORD}-2`;
		await page.goto(`${BASE}/?_task=mail`, { waitUntil: 'load', timeout: WAIT_MS });
		await visible(page, '#rcmloginuser');
		await typeLogin(page, ME.login, ME.password);
		await visible(page, '#verdon-code');
		assert(devices().length === 0, 'verdonctl device list is empty after the password change');
	});
}

// In a second browser (a phone) while the first one stays idle; a third one waits on the code
// page meanwhile, past verdon_code_ttl (30 s in the test's config).
const CODE_TTL_S = 30;
async function flowOthers(page) {
	const late = await page.context().browser().newContext({ viewport: PHONE, locale: 'fr-FR' });
	const latePage = await late.newPage();
	let lateSince = 0;
	await flow('code page left open', async () => {
		await check('another phone stops on the code page', async () => {
			await openLogin(latePage);
			await typeLogin(latePage, OTHER.login, OTHER.password);
			await visible(latePage, '#verdon-code');
			lateSince = Date.now();
		});
	});
	try {
		await flowOthersOnPhone(page);
		if (lateSince) {
			await flow('code page left open', async () => {
				const left = (CODE_TTL_S + 2) * 1000 - (Date.now() - lateSince);
				if (left > 0) await latePage.waitForTimeout(left);
				const waited = Math.round((Date.now() - lateSince) / 1000);
				await check(`a code typed ${waited} s later (verdon_code_ttl ${CODE_TTL_S} s): back to the login form, the password forgotten`, async () => {
					await typeCode(latePage, await nextCode(OTHER));
					await visible(latePage, '#rcmloginuser');
					await message(latePage, 'Le délai pour saisir le code est dépassé');
				});
			});
		}
	} finally {
		await late.close();
	}
}

async function flowOthersOnPhone(page) {
	await flow('replayed and recovery codes', async () => {
		await check('phone: a code already used (replayed) is refused on the code page', async () => {
			await openLogin(page);
			await typeLogin(page, ME.login, ME.password);
			await typeCode(page, ME.lastCode);
			await visible(page, '#verdon-code');
			await message(page, 'Code incorrect');
		});
		await checkAlone('screenshot: replayed code', () => shot(page, 'code-replayed'));
		await check('phone: a recovery code opens the Inbox', async () => {
			await page.click('#verdon-recovery');
			assert((await page.getAttribute('#verdon-code', 'inputmode')) === 'text', 'inputmode after "code de secours"');
			await typeCode(page, RECOVERY.shift());
			await inInbox(page);
		});
		await checkAlone('screenshot: Inbox on a phone', () => shot(page, 'inbox-recovery'));
		await check('phone: logout', async () => {
			await Promise.all([page.waitForNavigation({ timeout: WAIT_MS }), page.evaluate(() => window.rcmail.command('logout'))]);
			await visible(page, '#rcmloginuser');
		});
	});
	await flow('too many codes, then locked', async () => {
		await check('too many wrong codes send the person back to the login form', async () => {
			await openLogin(page);
			await typeLogin(page, OTHER.login, OTHER.password);
			for (let i = 0; i < 3; i++) await typeCode(page, wrongCode(OTHER.secret));
			await visible(page, '#rcmloginuser');
			await message(page, 'Trop de codes incorrects');
		});
		await checkAlone('screenshot: too many codes', () => shot(page, 'code-tries'));
		await check('a throttled account gets "Trop de tentatives" with the wait', async () => {
			let seen = '';
			for (let i = 0; i < 5 && !seen.includes('Trop de tentatives'); i++) {
				await openLogin(page);
				await typeLogin(page, OTHER.login, `${OTHER.password}-faux-${i}`);
				await page.waitForSelector('#messagestack div', { state: 'attached', timeout: WAIT_MS });
				seen = await page.evaluate(() => document.querySelector('#messagestack').textContent);
			}
			assert(/Trop de tentatives\. Réessayez dans \d+ (minutes|secondes)/.test(seen), `message: ${seen}`);
		});
		await checkAlone('screenshot: locked', () => shot(page, 'locked'));
	});
	await flow('first login', async () => {
		await check('a temporary password leads to the page that links to the self-service page', async () => {
			await openLogin(page);
			await typeLogin(page, FIRST.login, FIRST.password);
			await visible(page, '#verdon-selfservice');
			const href = await page.getAttribute('#verdon-selfservice', 'href');
			assert(href === 'https://compte.example.org/', `link: ${href}`);
		});
		await checkAlone('screenshot: first login', () => shot(page, 'first-login'));
		await check('no authenticator yet: the same page, asking to activate the code first', async () => {
			await openLogin(page);
			await typeLogin(page, NO_OTP.login, NO_OTP.password);
			await visible(page, '#verdon-selfservice');
			const t = await page.textContent('#verdon-notice-text');
			assert(t.includes('Activez d’abord votre code à usage unique'), `text: ${t}`);
		});
		await check('a suspended account: « Ce compte est suspendu »', async () => {
			assert(helper(['suspend', NO_OTP.login]).rc === 0, 'verdonctl user suspend');
			await openLogin(page);
			await typeLogin(page, NO_OTP.login, NO_OTP.password);
			await visible(page, '#rcmloginuser');
			await message(page, 'Ce compte est suspendu');
		});
	});
	await flow('wrong password', async () => {
		await check('a wrong password is refused without saying which part was wrong', async () => {
			await openLogin(page);
			await typeLogin(page, ME.login, 'pas-le-bon-mot-de-passe');
			await visible(page, '#rcmloginuser');
			await message(page, 'Identifiant, mot de passe ou code incorrect');
		});
	});
	await flow('verdon unreachable', async () => {
		await check('verdon unreachable: "Service momentanément indisponible", never a login', async () => {
			assert(helper(['down']).rc === 0, 'the auth socket moved away');
			try {
				await openLogin(page);
				await typeLogin(page, ME.login, ME.password);
				await visible(page, '#rcmloginuser');
				await message(page, 'Service momentanément indisponible');
			} finally {
				assert(helper(['up']).rc === 0, 'the auth socket moved back');
			}
		});
		await checkAlone('screenshot: service unavailable', () => shot(page, 'tempfail'));
	});
}

async function main() {
	const timer = setTimeout(() => {
		console.log(`not ok - the browser run ends within ${TOTAL_MS} ms`);
		process.exit(1);
	}, TOTAL_MS);
	const browser = await chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
			'--disable-component-update', '--disable-sync'],
	});
	const ctxA = await browser.newContext({ viewport: DESKTOP, locale: 'fr-FR' });
	try {
		const page = ctxA.pages()[0] || (await ctxA.newPage());
		await flow('main', async () => {
			await flowMain(page);
			await flowMail(page);
			await flowIdle(page, async () => {
				const ctxB = await browser.newContext({ viewport: PHONE, locale: 'fr-FR', isMobile: true, hasTouch: true });
				try {
					await flowOthers(await ctxB.newPage());
				} finally {
					await ctxB.close();
				}
			});
			await flowPassword(page);
			await flowLogout(page);
			await flowRevoked(page);
		});
		if (TRUST_DAYS > 0) await flow('trusted browser', () => flowTrusted(page));
	} finally {
		await ctxA.close();
		await browser.close();
		clearTimeout(timer);
	}
	process.exit(summary());
}
main().catch((e) => {
	notOk('the browser run', e);
	process.exit(1);
});
