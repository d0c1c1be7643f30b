// Light progressive enhancement for the dashboard: dates in the viewer's
// locale, confirmations that say what will happen, and the "Mark as paid"
// dialog's fee preview. Everything is plain forms underneath.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const t of document.querySelectorAll("time[data-local]")) {
    const d = new Date(t.getAttribute("datetime"));
    if (!isNaN(d)) t.textContent = d.toLocaleString();
  }

  const dialog = document.getElementById("confirm");
  const text = document.getElementById("confirm-text");
  let pending = null;
  for (const button of document.querySelectorAll("button[data-confirm]")) {
    button.addEventListener("click", (ev) => {
      if (pending === button) { pending = null; return; } // confirmed: submit
      ev.preventDefault();
      const form = button.form;
      const n = form.querySelectorAll("input[name=id]:checked").length;
      if (form.id === "bulk" && n === 0) {
        text.textContent = "Select at least one placement first.";
        document.getElementById("confirm-ok").hidden = true;
      } else {
        text.textContent = button.dataset.confirm.replace("{n}", String(n));
        document.getElementById("confirm-ok").hidden = false;
      }
      dialog.onclose = () => {
        if (dialog.returnValue === "ok") { pending = button; button.click(); }
      };
      dialog.showModal();
    });
  }

  for (const opener of document.querySelectorAll("[data-open]")) {
    opener.addEventListener("click", () => document.getElementById(opener.dataset.open).showModal());
  }
  for (const closer of document.querySelectorAll("[data-close]")) {
    closer.addEventListener("click", () => document.getElementById(closer.dataset.close).close());
  }

  const waive = document.getElementById("waive-form");
  if (waive) {
    const inputs = [...waive.querySelectorAll("input[name=amount]")];
    const update = () => {
      const after = waiveAfter(waive.dataset.outstanding, inputs.map((i) => i.dataset.open), inputs.map((i) => i.value));
      inputs.forEach((input, i) => {
        document.getElementById(input.dataset.remains).textContent = after.remains[i].text;
        if (after.remains[i].invalid) input.setAttribute("aria-invalid", "true");
        else input.removeAttribute("aria-invalid");
      });
      const ok = after.outstanding !== null;
      document.getElementById("waive-remaining").textContent = ok ? after.outstanding + " " + waive.dataset.currency : "–";
      document.getElementById("waive-submit").disabled = !ok;
    };
    for (const input of inputs) input.addEventListener("input", update);
  }

  const pay = document.getElementById("pay-form");
  if (pay) {
    const input = document.getElementById("pay-amount");
    const out = document.getElementById("pay-fee-amount");
    const update = () => { out.textContent = feeAfter(pay.dataset, input.value); };
    input.addEventListener("input", update);
    update();
  }
});

// Exact decimal arithmetic on minor units with BigInt: the fee is
// (recovered + amount) × rate, rounded half-up, as the ledger computes it.
// An amount is read as the ledger reads one: digits, optional decimals and
// an optional exponent, exact or not at all (1e2 is 100; 1e-3 in a
// two-decimal currency is not an amount).
function toUnits(s, scale) {
  const m = /^\s*(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d{1,3}))?\s*$/.exec(s);
  if (!m) return null;
  let digits = m[1] + (m[2] || "");
  const decimals = (m[2] || "").length - (m[3] ? parseInt(m[3], 10) : 0);
  if (decimals > scale) {
    const cut = decimals - scale;
    const dropped = digits.slice(Math.max(0, digits.length - cut));
    if (/[^0]/.test(dropped)) return null;
    digits = digits.slice(0, Math.max(0, digits.length - cut)) || "0";
  } else {
    digits += "0".repeat(scale - decimals);
  }
  return BigInt(digits);
}

function fromUnits(units, scale) {
  const neg = units < 0n;
  const s = (neg ? -units : units).toString().padStart(scale + 1, "0");
  return (neg ? "-" : "") + (scale ? s.slice(0, -scale) + "." + s.slice(-scale) : s);
}

// waiveAfter is the partial-recall form's arithmetic, the ledger's rule for
// a credit waiver: what remains open on each invoice after the amount typed
// for it (blank waives nothing), or why that amount is refused; and what
// remains outstanding, null while any amount is refused.
function waiveAfter(outstanding, opens, values) {
  const scale = (outstanding.split(".")[1] || "").length;
  let left = toUnits(outstanding, scale);
  const remains = [];
  for (let i = 0; i < opens.length; i++) {
    const open = toUnits(opens[i], scale);
    const typed = values[i].trim() !== "";
    const v = typed ? toUnits(values[i], scale) : 0n;
    if (v === null || (typed && v === 0n) || v > open) { // a typed zero is not a waiver the ledger takes
      remains.push({ text: v === null ? "not an amount" : v === 0n ? "must be positive" : "more than is open", invalid: true });
      left = null;
      continue;
    }
    remains.push({ text: fromUnits(open - v, scale), invalid: false });
    if (left !== null) left -= v;
  }
  return { remains, outstanding: left === null ? null : fromUnits(left, scale) };
}

// feeAfter is the "Mark as paid" dialog's preview: the fee once amount is
// paid, or why amount is refused.
function feeAfter(data, amount) {
  const scale = (data.outstanding.split(".")[1] || "").length;
  const recovered = toUnits(data.recovered, scale);
  const paid = toUnits(amount, scale);
  const outstanding = toUnits(data.outstanding, scale);
  const rateDigits = (data.rate.split(".")[1] || "").length;
  const rate = toUnits(data.rate, rateDigits);
  if (paid === null || paid <= 0n) return "enter an amount like 120.50";
  if (paid > outstanding) return "more than is still owed";
  const den = 10n ** BigInt(rateDigits);
  const fee = ((recovered + paid) * rate * 2n + den) / (2n * den);
  const s = fee.toString().padStart(scale + 1, "0");
  const whole = scale ? s.slice(0, -scale) + "." + s.slice(-scale) : s;
  return whole + " " + data.currency;
}
