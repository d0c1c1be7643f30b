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
    const inputs = waive.querySelectorAll("input[name=amount]");
    const update = () => {
      const scale = (waive.dataset.outstanding.split(".")[1] || "").length;
      let left = toUnits(waive.dataset.outstanding, scale);
      let ok = true;
      for (const input of inputs) {
        const open = toUnits(input.dataset.open, scale);
        const cell = document.getElementById(input.dataset.remains);
        const v = input.value.trim() === "" ? 0n : toUnits(input.value, scale);
        if (v === null || v < 0n || v > open) {
          cell.textContent = v === null ? "not an amount" : "more than is open";
          input.setAttribute("aria-invalid", "true");
          ok = false;
          continue;
        }
        input.removeAttribute("aria-invalid");
        cell.textContent = fromUnits(open - v, scale);
        left -= v;
      }
      document.getElementById("waive-remaining").textContent = ok ? fromUnits(left, scale) + " " + waive.dataset.currency : "–";
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
function toUnits(s, scale) {
  const m = /^\s*(\d+)(?:\.(\d+))?\s*$/.exec(s);
  if (!m) return null;
  const frac = (m[2] || "");
  if (frac.length > scale) return null;
  return BigInt(m[1] + frac.padEnd(scale, "0"));
}

function fromUnits(units, scale) {
  const neg = units < 0n;
  const s = (neg ? -units : units).toString().padStart(scale + 1, "0");
  return (neg ? "-" : "") + (scale ? s.slice(0, -scale) + "." + s.slice(-scale) : s);
}

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
