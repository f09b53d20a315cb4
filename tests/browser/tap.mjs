// What the browser test programs share: "ok - …" / "not ok - …" lines with their counts, flows
// that stop at their first failure, the environment they are given, and TOTP codes by step.
import { execFileSync } from 'node:child_process';

const counts = { passed: 0, failed: 0 };

export function need(name) {
	const v = process.env[name];
	if (!v) {
		console.log(`not ok - environment variable ${name} is set`);
		process.exit(1);
	}
	return v;
}
export function ok(desc) {
	counts.passed++;
	console.log(`ok - ${desc}`);
}
export function notOk(desc, err) {
	counts.failed++;
	console.log(`not ok - ${desc}`);
	const text = err instanceof Error ? err.message : String(err ?? '');
	for (const line of text.split('\n').slice(0, 12)) if (line.trim()) console.log(`# ${line}`);
}
export function assert(cond, msg) {
	if (!cond) throw new Error(msg);
}
// "N passed, N failed"; the exit status the program should end with.
export function summary() {
	console.log(`${counts.passed} passed, ${counts.failed} failed`);
	return counts.failed ? 1 : 0;
}

// A flow stops at its first failure: what follows depends on it.
export class FlowStop extends Error {}
export async function check(desc, fn) {
	try {
		const r = await fn();
		ok(desc);
		return r;
	} catch (e) {
		notOk(desc, e);
		throw new FlowStop(desc);
	}
}
// A check that what follows does not depend on: the flow goes on after its failure.
export async function checkAlone(desc, fn) {
	try {
		await fn();
		ok(desc);
	} catch (e) {
		notOk(desc, e);
	}
}
// Runs a flow; a check's failure ended it already, anything else is reported.
export async function runFlow(name, fn) {
	try {
		await fn();
	} catch (e) {
		if (!(e instanceof FlowStop)) notOk(`${name}: unexpected error`, e);
	}
}

// The TOTP code of a base32 secret for a 30-second step number (oathtool).
export function totpAt(secret, step, timeout = 10000) {
	const when = new Date(step * 30000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
	return execFileSync('oathtool', ['--totp', '-b', `--now=${when}`, secret], { timeout }).toString().trim();
}
