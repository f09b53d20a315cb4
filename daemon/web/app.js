/*
 * verdon's self-service page: one page, one section per step, driven by the
 * JSON API of docs/http-api.md. No framework and nothing from another origin
 * (the CSP forbids it); text goes into the page with textContent only.
 *
 * Stable ids, for the browser tests (keep them):
 *   #message                 the aria-live region for every message (class ok | error | info)
 *   views (sections, shown with the hidden attribute):
 *     #view-loading #view-login #view-otp #view-first #view-enroll #view-recovery
 *     #view-home #view-help #view-forgot #view-reset #view-forgot-id
 *   header:     #org-name (the configured organisation) #webmail-link (shown when configured)
 *   login:      #login-id #login-password #login-submit #help-link (to "M'auto dépanner")
 *   help:       #forgot-link #help-have-code #forgot-id-link #help-back
 *   login, 2nd: #otp-code #otp-submit #otp-use-recovery (toggle: a recovery code in #otp-code) #otp-back
 *               #otp-trust-wrap #otp-trust (checkbox, when trusted_browser_days > 0) #otp-trust-days
 *   first:      #first-login (prefilled) #first-temp (in #first-temp-field, hidden when the login
 *               just took it) #first-policy-list #first-new #first-new2 #first-submit #first-back
 *   enrollment: #enroll-qr (img) #enroll-secret (groups of four) #enroll-account #enroll-copy
 *               #enroll-uri-link (otpauth://, shown on touch screens) #enroll-code #enroll-submit
 *               #enroll-retry #enroll-cancel
 *   recovery:   #recovery-codes (ol, one li per code) #recovery-copy #recovery-print #recovery-done
 *   home:       #home-identifiant #home-email #home-otp-state #home-reenroll #logout
 *               #pw-current #pw-new #pw-new2 #pw-otp #pw-submit
 *               #app-list (ul; each li has data-id and a button #app-revoke-<id>, class app-revoke)
 *               #app-empty #app-label #app-imap #app-smtp #app-submit
 *               #app-created #app-password-value #app-copy #app-created-done
 *               #app-revoke-panel #app-revoke-yes #app-revoke-no
 *               #device-list (ul; each li has data-id and a button #device-revoke-<id>) #device-empty
 *               #rescue-current (masked) #rescue-email #rescue-submit
 *               #rescue-code-form #rescue-sent #rescue-code #rescue-confirm #rescue-cancel
 *   forgotten password: #forgot-login #forgot-submit #forgot-have-code #forgot-back
 *               #reset-login #reset-code #reset-otp #reset-use-recovery (toggle) #reset-recovery
 *               #reset-new #reset-new2 #reset-submit #reset-again #reset-back
 *   forgotten identifiant: #fid-numen #fid-birth (JJ/MM/AAAA or AAAA-MM-JJ) #fid-last #fid-submit #fid-back
 *   policy hints from GET /api/config: #first-policy-list #pw-policy #reset-policy
 * Public views also have an address: #m-auto-depanner, #mot-de-passe-oublie, #nouveau-mot-de-passe,
 * #identifiant-oublie.
 */
'use strict';

(function () {
	const TIMEOUT_MS = 20000;
	const PUBLIC_HASH = {
		'#m-auto-depanner': 'help',
		'#mot-de-passe-oublie': 'forgot',
		'#nouveau-mot-de-passe': 'reset',
		'#identifiant-oublie': 'forgot-id',
	};
	const POLICY_REASONS = {
		too_short: 'Le mot de passe est trop court.',
		too_long: 'Le mot de passe est trop long.',
		not_utf8: 'Le mot de passe contient des caractères invalides.',
		dictionary: 'Le mot de passe est trop courant ou trop simple.',
		context: 'Le mot de passe ne doit contenir ni votre identifiant, ni votre nom, ni votre date de naissance, ni votre NUMEN.',
		character_classes: 'Le mot de passe doit contenir une majuscule, une minuscule, un chiffre et un caractère spécial.',
		reused: 'Le nouveau mot de passe doit être différent de l\'ancien.',
	};
	const MSG = {
		network: 'Connexion au service impossible : vérifiez votre connexion à Internet, puis réessayez.',
		tempfail: 'Service momentanément indisponible, réessayez.',
		disabled: 'Compte suspendu : contactez l\'assistance.',
		session: 'Votre session a expiré : reconnectez-vous.',
		mismatch: 'Les deux nouveaux mots de passe ne sont pas identiques.',
		sent: 'Si le compte existe, un code a été envoyé à l\'adresse de secours.',
		sentId: 'Si le compte existe, votre identifiant a été envoyé à l\'adresse de secours.',
	};
	/* The configured policy (GET /api/config); the default one until it is read. */
	const policy = { min_length: 12, character_classes: false, dictionary: true };

	/* What the page remembers; the password only between the two login steps. */
	const st = {
		view: null,
		stage: null,
		identifiant: '',
		email: '',
		login: '',
		password: '',
		otpRecovery: false,
		resetRecovery: false,
		revoke: null,
		qrFallback: '',
		anchor: null,
		resumed: 0,
		countdown: null,
	};

	const $ = (id) => document.getElementById(id);

	/* ---------------------------------------------------------------- API */

	async function api(method, path, body) {
		const opt = { method: method, credentials: 'same-origin', cache: 'no-store', headers: {} };
		const ctl = typeof AbortController === 'function' ? new AbortController() : null;
		let timer = null;
		if (method !== 'GET') {
			opt.headers['X-Verdon-Request'] = '1';
			/* A penalised address is told how long to wait, at once, rather than held. */
			opt.headers['X-Verdon-No-Hold'] = '1';
			if (method !== 'DELETE') {
				opt.headers['Content-Type'] = 'application/json';
				opt.body = JSON.stringify(body || {});
			}
		}
		if (ctl) {
			opt.signal = ctl.signal;
			timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
		}
		let res;
		try {
			res = await fetch(path, opt);
		} catch (e) {
			return { ok: false, status: 0, data: { error: 'network' } };
		} finally {
			if (timer) clearTimeout(timer);
		}
		let data = {};
		try {
			data = await res.json();
		} catch (e) {
			data = {};
		}
		if (data === null || typeof data !== 'object') data = {};
		return { ok: res.ok, status: res.status, data: data };
	}

	function duration(s) {
		const m = Math.floor(s / 60);
		const r = s % 60;
		let t = '';
		if (m > 0) t = m + ' min';
		if (r > 0) t += (t ? ' ' : '') + r + ' s';
		return t;
	}

	function penaltyText(wait) {
		const s = Math.ceil(Number(wait));
		if (!(s > 0)) return 'Vous pouvez réessayer maintenant.';
		return 'Trop d\'essais depuis cette connexion : réessayez dans ' + duration(s) + '.';
	}

	function waitText(wait) {
		if (wait === undefined || wait === null || wait === '') return 'Trop d\'essais : patientez quelques minutes, puis réessayez.';
		const s = Math.ceil(Number(wait));
		if (!(s > 0)) return 'Compte verrouillé après trop d\'essais : contactez l\'assistance.';
		return 'Trop d\'essais : réessayez dans ' + duration(s) + '.';
	}

	/* The French sentence for a refusal; ctx names what "invalid" means here. */
	function describe(res, ctx) {
		const d = res.data || {};
		const reason = d.error;
		const detail = typeof d.detail === 'string' ? d.detail : '';
		ctx = ctx || {};
		if (res.status === 0) return MSG.network;
		if (Object.prototype.hasOwnProperty.call(POLICY_REASONS, reason)) return detail || POLICY_REASONS[reason];
		switch (reason) {
		case 'invalid':
			return ctx.invalid || 'Saisie incorrecte.';
		case 'expired':
			return ctx.expired || 'Code expiré : demandez-en un nouveau.';
		case 'locked':
			return waitText(d.wait);
		case 'penalty':
			return penaltyText(d.wait);
		case 'disabled':
			return MSG.disabled;
		case 'tempfail':
			return MSG.tempfail;
		case 'unauthenticated':
			return MSG.session;
		case 'csrf':
			return 'La demande a été refusée : rechargez la page, puis réessayez.';
		case 'bad_request':
			return 'Saisie incomplète ou invalide' + (detail ? ' : ' + detail : '.');
		case 'too_large':
			return 'Saisie trop longue.';
		case 'bad_json':
		case 'unsupported_media_type':
			return 'La page est peut-être ancienne : rechargez-la, puis réessayez.';
		case 'not_found':
			return ctx.notFound || 'Introuvable.';
		case 'no_pending_otp':
			return 'Aucune activation en cours : recommencez.';
		case 'password_change_required':
			return 'Votre mot de passe est temporaire : choisissez-en un nouveau.';
		default:
			break;
		}
		if (res.status === 503) return MSG.tempfail;
		if (res.status === 429) return waitText(d.wait);
		return 'Erreur inattendue (' + res.status + ')' + (detail ? ' : ' + detail : '') + '. Réessayez.';
	}

	/* --------------------------------------------------------- messages */

	/*
	 * The message goes under the title of the card the person is working in,
	 * so that on a phone it shows next to the field, not a screen away.
	 */
	function placeMessage(m) {
		let card = st.anchor && !st.anchor.closest('[hidden]') ? st.anchor : null;
		if (!card) {
			const view = $('view-' + st.view);
			card = view && (view.classList.contains('card') ? view : view.querySelector('.card'));
		}
		if (!card) return;
		const title = card.querySelector('h1, h2');
		const before = title && title.parentNode === card ? title.nextSibling : card.firstChild;
		if (m.parentNode !== card || m.previousSibling !== (title && title.parentNode === card ? title : null)) card.insertBefore(m, before);
	}

	function say(text, kind) {
		const m = $('message');
		stopCountdown();
		m.textContent = '';
		m.className = 'message ' + (kind || 'info');
		if (text) placeMessage(m);
		m.textContent = text;
		m.hidden = !text;
		if (text && typeof m.scrollIntoView === 'function') m.scrollIntoView({ block: 'nearest' });
	}

	function stopCountdown() {
		if (st.countdown) clearInterval(st.countdown);
		st.countdown = null;
	}

	/* A throttled request: the time left, counted down in the message, then "try again". */
	function sayWait(res, ctx) {
		const end = Date.now() + Math.ceil(Number(res.data.wait)) * 1000;
		const text = (left) => (res.data.error === 'penalty' ? penaltyText(left) : describe({ status: res.status, data: { error: 'locked', wait: left } }, ctx));
		say(text(Math.ceil((end - Date.now()) / 1000)), 'error');
		st.countdown = setInterval(() => {
			const left = Math.ceil((end - Date.now()) / 1000);
			const m = $('message');
			if (left <= 0) {
				stopCountdown();
				m.textContent = 'Vous pouvez réessayer maintenant.';
				m.className = 'message info';
				return;
			}
			m.textContent = text(left);
		}, 1000);
	}

	function sayError(res, ctx) {
		const d = res.data || {};
		if ((d.error === 'penalty' || d.error === 'locked') && Number(d.wait) > 0) return sayWait(res, ctx);
		say(describe(res, ctx), 'error');
	}

	function clearMessage() {
		say('', 'info');
	}

	/* ------------------------------------------------------------ views */

	function views() {
		return document.querySelectorAll('main > section[id^="view-"]');
	}

	function hashFor(name) {
		for (const h in PUBLIC_HASH) if (PUBLIC_HASH[h] === name) return h;
		return '';
	}

	/* Shows one section; focus goes to the given field or to the title. */
	function go(name, focusId) {
		views().forEach((v) => {
			v.hidden = v.id !== 'view-' + name;
		});
		st.view = name;
		st.anchor = null;
		const want = hashFor(name);
		if (location.hash !== want && history.replaceState) history.replaceState(null, '', want || location.pathname + location.search);
		clearMessage();
		const f = focusId ? $(focusId) : document.querySelector('#view-' + name + ' h1');
		if (f) f.focus();
		if (!focusId) window.scrollTo(0, 0);
	}

	function field(id) {
		return $(id).value;
	}

	function trimmed(id) {
		return $(id).value.trim();
	}

	function digitsOnly(s) {
		return s.replace(/[\s-]/g, '');
	}

	/* A refusal tied to one field: say it, mark the field, put the cursor in it. */
	function refuse(id, text) {
		say(text, 'error');
		const el = $(id);
		if (el) {
			el.setAttribute('aria-invalid', 'true');
			el.focus();
		}
		return false;
	}

	function needed(id, label) {
		if ($(id).value.trim() !== '') return true;
		return refuse(id, label + ' : champ obligatoire.');
	}

	function validCode(id, label) {
		const v = digitsOnly($(id).value);
		if (/^[0-9]{6,8}$/.test(v)) return true;
		return refuse(id, label + ' : tapez les chiffres affichés (6 chiffres).');
	}

	function validRecovery(id) {
		const v = $(id).value.replace(/\s/g, '');
		if (/^[A-Za-z0-9]{5}-?[A-Za-z0-9]{5}$/.test(v)) return true;
		return refuse(id, 'Code de secours : il s\'écrit comme xxxxx-xxxxx.');
	}

	function samePasswords(a, b) {
		if ($(a).value === '') return refuse(a, 'Nouveau mot de passe : champ obligatoire.');
		if ($(a).value !== $(b).value) return refuse(b, MSG.mismatch);
		return true;
	}

	/* Disables the form's button while the request runs, so nothing is sent twice. */
	function onSubmit(formId, handler) {
		const form = $(formId);
		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			const btn = form.querySelector('button[type="submit"]');
			if (btn.disabled) return;
			st.anchor = form.closest('.card');
			form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
			btn.disabled = true;
			form.setAttribute('aria-busy', 'true');
			try {
				await handler();
			} finally {
				btn.disabled = false;
				form.removeAttribute('aria-busy');
			}
		});
	}

	function onClick(id, handler) {
		$(id).addEventListener('click', async (ev) => {
			const btn = ev.currentTarget;
			if (btn.tagName === 'A') ev.preventDefault();
			if (btn.getAttribute('aria-disabled') === 'true') return;
			btn.setAttribute('aria-disabled', 'true');
			st.anchor = btn.closest('.card');
			try {
				await handler(ev);
			} finally {
				btn.removeAttribute('aria-disabled');
			}
		});
	}

	/* Everything secret or personal leaves the page at logout. */
	function wipe() {
		document.querySelectorAll('form').forEach((f) => f.reset());
		st.password = '';
		st.login = '';
		st.identifiant = '';
		st.email = '';
		st.stage = null;
		st.revoke = null;
		$('recovery-codes').textContent = '';
		$('app-password-value').value = '';
		$('app-created').hidden = true;
		$('app-revoke-panel').hidden = true;
		$('app-list').textContent = '';
		$('enroll-secret').textContent = '';
		$('enroll-qr').removeAttribute('src');
		$('enroll-box').hidden = true;
		$('home-identifiant').textContent = '';
		$('home-email').textContent = '';
		$('first-temp-field').hidden = false;
		$('rescue-current').textContent = '';
		showRescueAsk();
		setOtpRecovery(false);
		setResetRecovery(false);
	}

	function toLogin(text, kind, login) {
		wipe();
		go('login', login ? 'login-password' : 'login-id');
		if (login) $('login-id').value = login;
		if (text) say(text, kind || 'info');
	}

	/* A session route refused: the session died or is of the wrong stage. */
	function sessionLost(res) {
		if (res.data && res.data.error === 'unauthenticated') {
			toLogin(MSG.session, 'error');
			return true;
		}
		/* A wrong stage: look again where the session stands, but never in a loop. */
		if (res.status === 403 && res.data && res.data.error !== 'csrf' && Date.now() - st.resumed > 10000) {
			st.resumed = Date.now();
			resume();
			return true;
		}
		return false;
	}

	/* After a login or a page load: the session's stage says where to go. */
	function enter(data) {
		st.identifiant = data.identifiant || st.identifiant;
		st.stage = data.stage;
		if (data.stage === 'enroll') return startEnroll();
		return enterHome();
	}

	async function resume() {
		const res = await api('GET', '/api/me');
		if (res.ok && (res.data.stage === 'full' || res.data.stage === 'enroll')) {
			st.email = res.data.email || '';
			return enter(res.data);
		}
		st.stage = null;
		route();
		if (res.status === 0 || res.status === 503) say(describe(res), 'error');
	}

	/* The public views have an address, so the back button and mailed links work. */
	function route() {
		if (st.stage) return;
		const name = PUBLIC_HASH[location.hash] || 'login';
		if (name === st.view) return;
		if (name === 'login') return go('login', 'login-id');
		if (name === 'help') return go('help');
		if (name === 'forgot') return go('forgot', 'forgot-login');
		if (name === 'reset') return go('reset', 'reset-login');
		return go('forgot-id', 'fid-numen');
	}

	function openPublic(hash) {
		if (location.hash !== hash) history.pushState(null, '', hash || location.pathname + location.search);
		st.view = null;
		route();
	}

	/* ------------------------------------------------------------ login */

	async function login() {
		if (!needed('login-id', 'Identifiant') || !needed('login-password', 'Mot de passe')) return;
		const id = trimmed('login-id');
		const pw = field('login-password');
		const res = await api('POST', '/api/login', { login: id, password: pw });
		if (res.ok) {
			$('login-password').value = '';
			return enter(res.data);
		}
		const reason = res.data.error;
		if (reason === 'otp_required') {
			st.login = id;
			st.password = pw;
			$('login-password').value = '';
			$('otp-who').textContent = id;
			const days = Number(res.data.trusted_browser_days) || 0;
			$('otp-trust-wrap').hidden = days <= 0;
			$('otp-trust-days').textContent = String(days);
			$('otp-trust').checked = false;
			setOtpRecovery(false);
			$('otp-code').value = '';
			return go('otp', 'otp-code');
		}
		if (reason === 'password_change_required') {
			$('login-password').value = '';
			return goFirst(id, pw);
		}
		sayError(res, { invalid: 'Identifiant ou mot de passe incorrect.' });
		$('login-password').value = '';
		$('login-password').focus();
	}

	function setOtpRecovery(on) {
		st.otpRecovery = on;
		const code = $('otp-code');
		$('otp-label').textContent = on ? 'Code de secours (xxxxx-xxxxx)' : 'Code à 6 chiffres';
		code.setAttribute('inputmode', on ? 'text' : 'numeric');
		code.setAttribute('autocomplete', on ? 'off' : 'one-time-code');
		code.value = '';
		$('otp-use-recovery').setAttribute('aria-pressed', on ? 'true' : 'false');
		$('otp-use-recovery').textContent = on ? 'Utiliser plutôt le code de l\'application' : 'Je n\'ai plus mon téléphone : utiliser un code de secours';
	}

	async function loginOtp() {
		if (st.otpRecovery ? !validRecovery('otp-code') : !validCode('otp-code', 'Code')) return;
		const code = st.otpRecovery ? $('otp-code').value.replace(/\s/g, '') : digitsOnly($('otp-code').value);
		const body = { login: st.login, password: st.password, otp: code };
		if (!$('otp-trust-wrap').hidden && $('otp-trust').checked) body.trust = true;
		const res = await api('POST', '/api/login', body);
		$('otp-code').value = '';
		if (res.ok) {
			st.password = '';
			return enter(res.data);
		}
		if (res.data.error === 'password_change_required') {
			const id = st.login;
			const pw = st.password;
			st.password = '';
			return goFirst(id, pw);
		}
		sayError(res, { invalid: st.otpRecovery ? 'Code de secours incorrect ou déjà utilisé.' : 'Code incorrect. Tapez le code affiché maintenant par l\'application.' });
		$('otp-code').focus();
	}

	/* ------------------------------------------------------ first login */

	/* The temporary password was just typed and checked: it is kept in the hidden field, not asked again. */
	function goFirst(id, temp) {
		$('first-form').reset();
		$('first-temp-field').hidden = !!temp;
		go('first', temp ? 'first-new' : 'first-temp');
		$('first-login').value = id;
		$('first-temp').value = temp || '';
		say('Votre mot de passe est temporaire : choisissez maintenant le vôtre.', 'info');
	}

	async function firstLogin() {
		if (!needed('first-login', 'Identifiant') || !needed('first-temp', 'Mot de passe temporaire') || !samePasswords('first-new', 'first-new2')) return;
		const res = await api('POST', '/api/first-login', {
			login: trimmed('first-login'),
			temporary_password: field('first-temp'),
			new_password: field('first-new'),
		});
		if (res.ok && res.data.stage === 'login') {
			/* An authenticator is already active: a temporary password proves no second factor. */
			$('first-form').reset();
			st.stage = null;
			go('login', 'login-id');
			say('Mot de passe enregistré. Connectez-vous avec ce mot de passe et le code de votre application.', 'ok');
			return;
		}
		if (res.ok) {
			const ok = 'Mot de passe enregistré.';
			$('first-form').reset();
			await enter(res.data);
			if ($('message').hidden) say(ok + ' Activez maintenant l\'application d\'authentification.', 'ok');
			return;
		}
		const reason = res.data.error;
		if (Object.prototype.hasOwnProperty.call(POLICY_REASONS, reason)) {
			$('first-new2').value = '';
			return refuse('first-new', describe(res));
		}
		sayError(res, { invalid: 'Identifiant ou mot de passe temporaire incorrect. Un mot de passe temporaire est valable 7 jours : s\'il a expiré, demandez-en un nouveau à l\'assistance.' });
		$('first-temp-field').hidden = false;
		$('first-temp').value = '';
		$('first-temp').focus();
	}

	/* ------------------------------------------------------- enrollment */

	function otpauthInfo(uri) {
		const info = { account: '', digits: 6 };
		try {
			const u = new URL(uri);
			const label = decodeURIComponent(u.pathname.replace(/^\/+/, ''));
			const colon = label.indexOf(':');
			const issuer = u.searchParams.get('issuer') || (colon > 0 ? label.slice(0, colon) : '');
			const account = colon >= 0 ? label.slice(colon + 1) : label;
			info.account = issuer ? issuer + ' (' + account + ')' : account;
			const d = parseInt(u.searchParams.get('digits'), 10);
			if (d >= 6 && d <= 8) info.digits = d;
		} catch (e) {
			/* the label stays empty: the QR still carries everything */
		}
		return info;
	}

	function groupsOfFour(s) {
		return String(s || '').replace(/\s/g, '').replace(/(.{4})(?=.)/g, '$1 ');
	}

	function withNonce(url) {
		return url + (url.indexOf('?') < 0 ? '?' : '&') + 'n=' + Date.now();
	}

	async function startEnroll() {
		const cancel = $('enroll-cancel');
		cancel.hidden = false;
		cancel.textContent = st.stage === 'full' ? 'Annuler et garder l\'ancien téléphone' : 'Plus tard : me déconnecter';
		$('enroll-box').hidden = true;
		$('enroll-retry').hidden = true;
		$('enroll-form').hidden = true;
		$('enroll-loading').hidden = false;
		$('enroll-code').value = '';
		go('enroll');
		const res = await api('POST', '/api/otp/enroll', {});
		$('enroll-loading').hidden = true;
		if (!res.ok) {
			if (sessionLost(res)) return;
			$('enroll-retry').hidden = false;
			return sayError(res);
		}
		const d = res.data;
		const info = otpauthInfo(d.uri || '');
		const qr = $('enroll-qr');
		st.qrFallback = d.qr_svg && d.qr_png ? d.qr_png : '';
		qr.src = withNonce(d.qr_svg || d.qr_png || '/api/otp/qr.svg');
		$('enroll-secret').textContent = d.secret_groups || groupsOfFour(d.secret);
		$('enroll-account').textContent = info.account || st.identifiant;
		$('enroll-code-label').textContent = 'Code à ' + info.digits + ' chiffres affiché par l\'application';
		const link = $('enroll-uri-link');
		const touch = window.matchMedia && window.matchMedia('(pointer: coarse)').matches;
		link.hidden = !(touch && /^otpauth:\/\//.test(d.uri || ''));
		if (!link.hidden) link.href = d.uri;
		$('enroll-box').hidden = false;
		$('enroll-form').hidden = false;
	}

	/* The SVG did not load (an old browser): the PNG, then the key alone. */
	function qrFailed() {
		const qr = $('enroll-qr');
		if (!qr.getAttribute('src')) return;
		if (st.qrFallback) {
			const png = st.qrFallback;
			st.qrFallback = '';
			qr.src = withNonce(png);
			return;
		}
		say('Le QR code ne s\'affiche pas : dans l\'application, choisissez « Saisir une clé » et tapez la clé affichée.', 'error');
	}

	async function enrollConfirm() {
		if (!validCode('enroll-code', 'Code')) return;
		const res = await api('POST', '/api/otp/confirm', { code: digitsOnly(field('enroll-code')) });
		$('enroll-code').value = '';
		if (res.ok) {
			st.stage = 'full';
			return showRecovery(res.data.recovery_codes || []);
		}
		if (sessionLost(res)) return;
		if (res.data.error === 'no_pending_otp') {
			await startEnroll();
			return say(describe(res), 'error');
		}
		sayError(res, { invalid: 'Code incorrect. Vérifiez que le téléphone est à l\'heure (réglage automatique), puis tapez le code affiché maintenant.' });
		$('enroll-code').focus();
	}

	async function enrollCancel() {
		if (st.stage === 'full') return enterHome();
		return logout();
	}

	/* ---------------------------------------------------- recovery codes */

	function showRecovery(codes) {
		const list = $('recovery-codes');
		list.textContent = '';
		codes.forEach((c) => {
			const li = document.createElement('li');
			const code = document.createElement('code');
			code.textContent = String(c);
			li.appendChild(code);
			list.appendChild(li);
		});
		$('enroll-secret').textContent = '';
		$('enroll-qr').removeAttribute('src');
		go('recovery');
		say('L\'application d\'authentification est activée.', 'ok');
	}

	function recoveryText() {
		const codes = [];
		$('recovery-codes').querySelectorAll('code').forEach((c) => codes.push(c.textContent));
		return codes.join('\n');
	}

	async function recoveryDone() {
		$('recovery-codes').textContent = '';
		return enterHome();
	}

	/* ------------------------------------------------------------- home */

	const OTP_STATE = {
		active: 'Application d\'authentification : activée.',
		pending: 'Application d\'authentification : activation en cours.',
		none: 'Application d\'authentification : aucune.',
	};

	async function enterHome() {
		const res = await api('GET', '/api/me');
		if (!res.ok) {
			if (sessionLost(res)) return;
			return toLogin(describe(res), 'error');
		}
		const me = res.data;
		st.identifiant = me.identifiant || '';
		st.email = me.email || '';
		st.stage = me.stage;
		if (me.stage === 'enroll') return startEnroll();
		$('home-identifiant').textContent = st.identifiant;
		$('pw-username').value = st.identifiant;
		$('home-email').textContent = st.email;
		$('home-email-wrap').hidden = !st.email;
		$('home-otp-state').textContent = OTP_STATE[me.otp] || '';
		$('rescue-current').textContent = me.rescue_email_masked || 'aucune';
		showRescueAsk();
		$('app-created').hidden = true;
		$('app-password-value').value = '';
		$('app-revoke-panel').hidden = true;
		go('home');
		await loadRescue();
		await loadApps();
		await loadDevices();
	}

	async function changePassword() {
		if (!needed('pw-current', 'Mot de passe actuel') || !samePasswords('pw-new', 'pw-new2') || !validCode('pw-otp', 'Code de l\'application')) return;
		const res = await api('POST', '/api/password', {
			current: field('pw-current'),
			new: field('pw-new'),
			otp: digitsOnly(field('pw-otp')),
		});
		$('pw-otp').value = '';
		if (res.ok) {
			$('pw-form').reset();
			$('pw-username').value = st.identifiant;
			updateCount($('pw-new'));
			return say('Mot de passe changé. Vos autres sessions ont été fermées : sur vos autres appareils, reconnectez-vous avec le nouveau mot de passe.', 'ok');
		}
		if (sessionLost(res)) return;
		if (Object.prototype.hasOwnProperty.call(POLICY_REASONS, res.data.error)) {
			$('pw-new2').value = '';
			return refuse('pw-new', describe(res));
		}
		sayError(res, { invalid: 'Mot de passe actuel ou code incorrect.' });
		$('pw-current').focus();
	}

	/* ---------------------------------------------------- rescue address */

	function showRescueAsk() {
		$('rescue-form').hidden = false;
		$('rescue-code-form').hidden = true;
		$('rescue-code').value = '';
	}

	function validity(seconds) {
		const s = Number(seconds) || 0;
		return s >= 120 ? Math.round(s / 60) + ' minutes' : s + ' secondes';
	}

	/* A change asked earlier (another tab, a reload) still waits for its code: the form says so. */
	async function loadRescue() {
		const res = await api('GET', '/api/rescue-email');
		if (!res.ok) return;
		$('rescue-current').textContent = res.data.rescue_email_masked || 'aucune';
		if (!res.data.pending_masked) return;
		$('rescue-sent').textContent = 'Un code à 6 chiffres a été envoyé à ' + res.data.pending_masked + ' ; il est encore valable ' + validity(res.data.expires_in) + '. Sinon, annulez et demandez-en un nouveau.';
		$('rescue-form').hidden = true;
		$('rescue-code-form').hidden = false;
	}

	async function rescueAsk() {
		const email = trimmed('rescue-email');
		if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) return refuse('rescue-email', 'Nouvelle adresse de secours : tapez une adresse électronique complète, par exemple prenom.nom@exemple.fr.');
		const res = await api('POST', '/api/rescue-email', { email: email });
		if (!res.ok) {
			if (sessionLost(res)) return;
			if (res.data.error === 'bad_request' && res.data.detail) return refuse('rescue-email', 'Nouvelle adresse de secours : ' + res.data.detail + '.');
			return sayError(res);
		}
		$('rescue-sent').textContent = 'Un code à 6 chiffres a été envoyé à ' + email + '. Il est valable ' + validity(res.data.expires_in) + ' ; pensez à regarder dans les courriers indésirables.';
		$('rescue-form').hidden = true;
		$('rescue-code-form').hidden = false;
		$('rescue-code').value = '';
		$('rescue-code').focus();
		say('Code envoyé à la nouvelle adresse : saisissez-le pour confirmer le changement.', 'ok');
	}

	async function rescueConfirm() {
		if (!validCode('rescue-code', 'Code reçu')) return;
		const res = await api('POST', '/api/rescue-email/confirm', { code: digitsOnly(field('rescue-code')) });
		$('rescue-code').value = '';
		if (res.ok) {
			$('rescue-current').textContent = res.data.rescue_email_masked || '';
			$('rescue-form').reset();
			showRescueAsk();
			return say('Adresse de secours changée. Votre ancienne adresse a reçu un message qui le signale.', 'ok');
		}
		if (sessionLost(res)) return;
		const why = res.data.why;
		if (why === 'expired' || why === 'none' || res.data.tries_left === 0) showRescueAsk();
		sayError(res, { invalid: res.data.detail || 'Code incorrect.' });
		$(why === 'wrong' && res.data.tries_left > 0 ? 'rescue-code' : 'rescue-email').focus();
	}

	async function logout() {
		const res = await api('POST', '/api/logout', {});
		if (res.status === 0) return sayError(res);
		toLogin('Vous êtes déconnecté.', 'ok');
	}

	/* ---------------------------------------------------- app passwords */

	function fmtDate(v) {
		if (v === undefined || v === null || v === '' || v === 0 || v === '0') return 'jamais';
		let ms = NaN;
		if (typeof v === 'number') ms = v * 1000;
		else if (/^[0-9]+$/.test(String(v))) ms = Number(v) * 1000;
		else ms = Date.parse(String(v));
		if (isNaN(ms)) return String(v);
		try {
			return new Date(ms).toLocaleString('fr-FR', { dateStyle: 'medium', timeStyle: 'short' });
		} catch (e) {
			return new Date(ms).toLocaleString('fr-FR');
		}
	}

	function fmtServices(s) {
		const list = Array.isArray(s) ? s : String(s || '').split(',');
		const names = list.map((x) => String(x).trim()).filter((x) => x !== '').map((x) => x.toUpperCase());
		return names.length ? names.join(', ') : 'aucun service';
	}

	/* One credential in a list: its name, a line about it, and a revoke button #<prefix>-revoke-<id>. */
	function credItem(prefix, id, title, about, label, onRevoke) {
		const li = document.createElement('li');
		li.dataset.id = id;
		const name = document.createElement('strong');
		name.className = 'app-name';
		name.textContent = title;
		const meta = document.createElement('span');
		meta.className = 'app-meta';
		meta.textContent = about;
		const btn = document.createElement('button');
		btn.type = 'button';
		btn.className = 'app-revoke danger';
		btn.id = prefix + '-revoke-' + id;
		btn.textContent = 'Révoquer';
		btn.setAttribute('aria-label', 'Révoquer « ' + label + ' »');
		btn.addEventListener('click', () => onRevoke(btn));
		const text = document.createElement('div');
		text.className = 'app-text';
		text.appendChild(name);
		text.appendChild(meta);
		li.appendChild(text);
		li.appendChild(btn);
		return li;
	}

	function appItem(a) {
		const id = String(a.id);
		return credItem('app', id, a.label || '(sans nom)',
			fmtServices(a.services) + ' · créé ' + fmtDate(a.created) + ' · dernière utilisation : ' + fmtDate(a.last_used),
			a.label || id, (btn) => askRevoke(id, a.label || id, btn));
	}

	function deviceItem(d) {
		const id = String(d.id);
		return credItem('device', id, (d.label || 'Navigateur') + (d.trusted ? ' (de confiance)' : ''),
			'reconnu le ' + fmtDate(d.created) + ' · dernière utilisation : ' + fmtDate(d.last_used) + ' · jusqu\'au ' + fmtDate(d.expires),
			d.label || id, () => revokeDevice(id));
	}

	async function loadDevices() {
		const res = await api('GET', '/api/devices');
		if (!res.ok) {
			if (sessionLost(res)) return;
			return say('La liste des navigateurs n\'a pas pu être lue. ' + describe(res), 'error');
		}
		const devices = Array.isArray(res.data.devices) ? res.data.devices : [];
		const list = $('device-list');
		list.textContent = '';
		devices.forEach((d) => list.appendChild(deviceItem(d)));
		$('device-empty').hidden = devices.length > 0;
	}

	async function revokeDevice(id) {
		const res = await api('DELETE', '/api/devices/' + encodeURIComponent(id));
		if (!res.ok) {
			if (sessionLost(res)) return;
			return sayError(res);
		}
		say('Navigateur révoqué.', 'ok');
		await loadDevices();
	}

	async function loadApps() {
		const res = await api('GET', '/api/app-passwords');
		const list = $('app-list');
		if (!res.ok) {
			if (sessionLost(res)) return;
			return say('La liste des mots de passe d\'application n\'a pas pu être lue. ' + describe(res), 'error');
		}
		const apps = Array.isArray(res.data.app_passwords) ? res.data.app_passwords : [];
		list.textContent = '';
		apps.forEach((a) => list.appendChild(appItem(a)));
		$('app-empty').hidden = apps.length > 0;
	}

	async function createApp() {
		if (!needed('app-label', 'Nom')) return;
		const services = [];
		if ($('app-imap').checked) services.push('imap');
		if ($('app-smtp').checked) services.push('smtp');
		if (services.length === 0) return refuse('app-imap', 'Cochez au moins un usage : lire (IMAP) ou envoyer (SMTP) le courrier.');
		const label = trimmed('app-label');
		const res = await api('POST', '/api/app-passwords', { label: label, services: services });
		if (!res.ok) {
			if (sessionLost(res)) return;
			return sayError(res);
		}
		$('app-form').reset();
		$('app-created-label').textContent = label;
		$('app-created-user').textContent = st.identifiant;
		$('app-password-value').value = res.data.password || '';
		$('app-created').hidden = false;
		$('app-revoke-panel').hidden = true;
		say('Mot de passe d\'application créé : copiez-le maintenant, il ne sera plus affiché.', 'ok');
		$('app-password-value').focus();
		$('app-password-value').select();
		await loadApps();
	}

	function createdDone() {
		$('app-password-value').value = '';
		$('app-created').hidden = true;
		clearMessage();
		$('app-label').focus();
	}

	function askRevoke(id, label, btn) {
		st.revoke = { id: id, label: label, btn: btn };
		clearMessage();
		$('app-revoke-text').textContent = 'Révoquer « ' + label + ' » ? Les logiciels qui l\'utilisent ne pourront plus se connecter.';
		$('app-revoke-panel').hidden = false;
		$('app-revoke-yes').focus();
	}

	function cancelRevoke() {
		const r = st.revoke;
		st.revoke = null;
		$('app-revoke-panel').hidden = true;
		if (r && r.btn && document.body.contains(r.btn)) r.btn.focus();
	}

	async function revoke() {
		const r = st.revoke;
		if (!r) return;
		const res = await api('DELETE', '/api/app-passwords/' + encodeURIComponent(r.id));
		if (!res.ok && res.status !== 404) {
			if (sessionLost(res)) return;
			return sayError(res);
		}
		st.revoke = null;
		$('app-revoke-panel').hidden = true;
		await loadApps();
		say(res.ok ? 'Mot de passe d\'application « ' + r.label + ' » révoqué.' : 'Ce mot de passe d\'application était déjà révoqué.', 'ok');
		$('app-label').focus();
	}

	/* ------------------------------------------------ forgotten password */

	async function forgot() {
		if (!needed('forgot-login', 'Identifiant')) return;
		const id = trimmed('forgot-login');
		const res = await api('POST', '/api/forgot-password', { login: id });
		if (!res.ok) return sayError(res);
		goReset(id);
		say(MSG.sent + ' Il est valable 15 minutes.', 'ok');
	}

	function goReset(id) {
		$('reset-form').reset();
		setResetRecovery(false);
		go('reset', id ? 'reset-code' : 'reset-login');
		if (id) $('reset-login').value = id;
	}

	function setResetRecovery(on) {
		st.resetRecovery = on;
		$('reset-otp-field').hidden = on;
		$('reset-recovery-field').hidden = !on;
		$('reset-otp').value = '';
		$('reset-recovery').value = '';
		const b = $('reset-use-recovery');
		b.setAttribute('aria-pressed', on ? 'true' : 'false');
		b.textContent = on ? 'Utiliser plutôt le code de l\'application' : 'Je n\'ai plus mon téléphone : utiliser un code de secours';
	}

	async function reset() {
		if (!needed('reset-login', 'Identifiant') || !validCode('reset-code', 'Code reçu par courriel')) return;
		if (st.resetRecovery ? !validRecovery('reset-recovery') : !validCode('reset-otp', 'Code de l\'application')) return;
		if (!samePasswords('reset-new', 'reset-new2')) return;
		const id = trimmed('reset-login');
		const body = { login: id, code: digitsOnly(field('reset-code')), new_password: field('reset-new') };
		if (st.resetRecovery) body.recovery_code = field('reset-recovery').replace(/\s/g, '');
		else body.otp = digitsOnly(field('reset-otp'));
		const res = await api('POST', '/api/reset-password', body);
		if (res.ok) {
			$('reset-form').reset();
			st.view = null;
			toLogin('Mot de passe changé : connectez-vous avec le nouveau mot de passe.', 'ok', id);
			return;
		}
		$('reset-otp').value = '';
		$('reset-recovery').value = '';
		if (Object.prototype.hasOwnProperty.call(POLICY_REASONS, res.data.error)) {
			$('reset-new2').value = '';
			return refuse('reset-new', describe(res));
		}
		sayError(res, {
			invalid: 'Code incorrect ou expiré. Le code reçu par courriel est valable 15 minutes et 5 essais ; vérifiez aussi le code de l\'application' + ' (ou le code de secours). Au besoin, demandez un nouveau code.',
		});
		$('reset-code').focus();
	}

	/* ---------------------------------------------- forgotten identifiant */

	/* JJ/MM/AAAA (or JJMMAAAA, or AAAA-MM-JJ) → AAAA-MM-JJ; '' if it is no date. */
	function isoBirth(s) {
		s = s.trim();
		let y, m, d, g;
		if ((g = /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$/.exec(s))) [y, m, d] = [g[1], g[2], g[3]];
		else if ((g = /^([0-9]{1,2})[/. -]([0-9]{1,2})[/. -]([0-9]{4})$/.exec(s))) [d, m, y] = [g[1], g[2], g[3]];
		else if ((g = /^([0-9]{2})([0-9]{2})([0-9]{4})$/.exec(s))) [d, m, y] = [g[1], g[2], g[3]];
		else return '';
		const dt = new Date(Date.UTC(+y, +m - 1, +d));
		if (dt.getUTCFullYear() !== +y || dt.getUTCMonth() !== +m - 1 || dt.getUTCDate() !== +d) return '';
		return y + '-' + String(m).padStart(2, '0') + '-' + String(d).padStart(2, '0');
	}

	async function forgotId() {
		const numen = field('fid-numen').replace(/\s/g, '').toUpperCase();
		if (!/^[0-9A-Z]{13}$/.test(numen)) return refuse('fid-numen', 'NUMEN : 13 lettres ou chiffres.');
		const birth = isoBirth(field('fid-birth'));
		if (!birth) return refuse('fid-birth', 'Date de naissance : écrivez-la JJ/MM/AAAA, par exemple 07/03/1985.');
		if (!needed('fid-last', 'Nom de famille')) return;
		const res = await api('POST', '/api/forgot-identifiant', { numen: numen, birth: birth, last: trimmed('fid-last') });
		if (!res.ok) return sayError(res);
		$('fid-form').reset();
		st.view = null;
		toLogin(MSG.sentId, 'ok');
	}

	/* --------------------------------------------------------- helpers */

	async function copy(text, btn) {
		let ok = false;
		try {
			if (navigator.clipboard && window.isSecureContext) {
				await navigator.clipboard.writeText(text);
				ok = true;
			}
		} catch (e) {
			ok = false;
		}
		if (!ok) {
			const ta = document.createElement('textarea');
			ta.className = 'offscreen';
			ta.value = text;
			ta.setAttribute('readonly', '');
			document.body.appendChild(ta);
			ta.select();
			try {
				ok = document.execCommand('copy');
			} catch (e) {
				ok = false;
			}
			ta.value = '';
			ta.remove();
			btn.focus();
		}
		if (ok) say('Copié dans le presse-papiers.', 'ok');
		else say('La copie automatique a échoué : sélectionnez le texte et copiez-le à la main.', 'error');
	}

	function toggleReveal(btn) {
		const input = $(btn.dataset.for);
		const show = input.type === 'password';
		input.type = show ? 'text' : 'password';
		btn.textContent = show ? 'Masquer' : 'Afficher';
		btn.setAttribute('aria-pressed', show ? 'true' : 'false');
	}

	function updateCount(input) {
		const out = document.querySelector('[data-count-for="' + input.id + '"]');
		if (!out) return;
		const v = input.value.normalize ? input.value.normalize('NFKC') : input.value;
		const n = Array.from(v).length;
		if (n === 0) {
			out.textContent = '';
			return;
		}
		out.textContent = n + (n > 1 ? ' caractères' : ' caractère') + (n >= policy.min_length ? ' : longueur suffisante.' : ' : ' + policy.min_length + ' au moins.');
	}

	/* ---------------------------------------------------------- wiring */

	function wire() {
		onSubmit('login-form', login);
		onSubmit('otp-form', loginOtp);
		onSubmit('first-form', firstLogin);
		onSubmit('enroll-form', enrollConfirm);
		onSubmit('pw-form', changePassword);
		onSubmit('app-form', createApp);
		onSubmit('forgot-form', forgot);
		onSubmit('reset-form', reset);
		onSubmit('fid-form', forgotId);
		onSubmit('rescue-form', rescueAsk);
		onSubmit('rescue-code-form', rescueConfirm);
		onClick('rescue-cancel', () => {
			showRescueAsk();
			clearMessage();
			$('rescue-email').focus();
		});
		onClick('help-link', () => openPublic('#m-auto-depanner'));
		onClick('help-have-code', () => {
			const id = trimmed('login-id');
			history.pushState(null, '', '#nouveau-mot-de-passe');
			goReset(id);
		});

		onClick('forgot-link', () => {
			const id = trimmed('login-id');
			openPublic('#mot-de-passe-oublie');
			if (id) $('forgot-login').value = id;
		});
		onClick('forgot-id-link', () => openPublic('#identifiant-oublie'));
		['forgot-back', 'reset-back', 'fid-back', 'help-back'].forEach((id) => onClick(id, () => openPublic('')));
		onClick('forgot-have-code', () => {
			const id = trimmed('forgot-login');
			history.pushState(null, '', '#nouveau-mot-de-passe');
			goReset(id);
		});
		onClick('reset-again', () => {
			const id = trimmed('reset-login');
			openPublic('#mot-de-passe-oublie');
			if (id) $('forgot-login').value = id;
		});
		onClick('otp-use-recovery', () => {
			setOtpRecovery(!st.otpRecovery);
			$('otp-code').focus();
		});
		onClick('reset-use-recovery', () => {
			setResetRecovery(!st.resetRecovery);
			$(st.resetRecovery ? 'reset-recovery' : 'reset-otp').focus();
		});
		onClick('otp-back', () => {
			const id = st.login;
			st.password = '';
			st.login = '';
			toLogin('', 'info', id);
		});
		onClick('first-back', () => toLogin('', 'info', ''));
		onClick('enroll-retry', startEnroll);
		onClick('enroll-cancel', enrollCancel);
		onClick('enroll-copy', (ev) => copy($('enroll-secret').textContent.replace(/\s/g, ''), ev.currentTarget));
		onClick('recovery-copy', (ev) => copy(recoveryText(), ev.currentTarget));
		onClick('recovery-print', () => window.print());
		onClick('recovery-done', recoveryDone);
		onClick('home-reenroll', startEnroll);
		onClick('logout', logout);
		onClick('app-copy', (ev) => copy($('app-password-value').value, ev.currentTarget));
		onClick('app-created-done', createdDone);
		onClick('app-revoke-yes', revoke);
		onClick('app-revoke-no', cancelRevoke);
		$('app-revoke-panel').addEventListener('keydown', (ev) => {
			if (ev.key === 'Escape') cancelRevoke();
		});
		$('app-password-value').addEventListener('focus', (ev) => ev.target.select());
		$('enroll-qr').addEventListener('error', qrFailed);

		document.querySelectorAll('button.reveal').forEach((b) => b.addEventListener('click', () => toggleReveal(b)));
		document.querySelectorAll('[data-count-for]').forEach((out) => {
			const input = $(out.dataset.countFor);
			input.addEventListener('input', () => updateCount(input));
		});
		document.querySelectorAll('input').forEach((el) => el.addEventListener('input', () => el.removeAttribute('aria-invalid')));
		window.addEventListener('popstate', () => {
			st.view = null;
			route();
		});
	}

	/* ------------------------------------------------ the académie's page */

	function policyHints() {
		const n = policy.min_length;
		const classes = 'une majuscule, une minuscule, un chiffre et un caractère spécial';
		const list = $('first-policy-list');
		const items = [n + ' caractères au moins (les espaces et les accents comptent)'];
		if (policy.character_classes) items.push('avec au moins ' + classes);
		items.push('ni votre nom, ni votre identifiant, ni votre date de naissance, ni votre NUMEN');
		if (policy.dictionary) items.push('pas un mot de passe courant («\u00a0motdepasse2024!\u00a0» est refusé)');
		list.textContent = '';
		items.forEach((t, i) => {
			const li = document.createElement('li');
			li.textContent = t + (i < items.length - 1 ? '\u00a0;' : '.');
			list.appendChild(li);
		});
		$('first-policy-example').textContent = policy.character_classes
			? 'Le plus simple\u00a0: quelques mots sans rapport, avec une majuscule, un chiffre et un signe, par exemple «\u00a0Cerise-volcan-7-tiroirs\u00a0».'
			: 'Le plus simple\u00a0: une phrase de plusieurs mots sans rapport, par exemple «\u00a0cerise volcan tiroir lundi\u00a0».';
		const short = n + ' caractères au moins' + (policy.character_classes ? ', dont ' + classes : '') + '\u00a0; ni votre nom, ni votre identifiant' + (policy.dictionary ? ', ni un mot de passe courant.' : '.');
		$('pw-policy').textContent = short;
		$('reset-policy').textContent = short;
	}

	/* The organisation's name, the webmail link and the password policy, as configured. */
	async function loadConfig() {
		const res = await api('GET', '/api/config');
		if (!res.ok) return;
		const c = res.data;
		if (typeof c.organisation === 'string' && c.organisation) {
			$('org-name').textContent = c.organisation;
			document.title = 'Mon compte – ' + c.organisation;
		}
		const link = $('webmail-link');
		if (typeof c.webmail_url === 'string' && /^https?:\/\//.test(c.webmail_url)) {
			link.href = c.webmail_url;
			link.hidden = false;
		}
		const p = c.password || {};
		if (Number(p.min_length) > 0) policy.min_length = Number(p.min_length);
		policy.character_classes = p.character_classes === true;
		policy.dictionary = p.dictionary !== false;
		policyHints();
		document.querySelectorAll('[data-count-for]').forEach((out) => updateCount($(out.dataset.countFor)));
	}

	function start() {
		wire();
		loadConfig();
		resume();
	}

	if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
	else start();
})();
