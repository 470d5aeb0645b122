// Sorting and filtering of the tables. Plain JavaScript, no library: the page must work offline.
// A cell's sort key is its data-value (the number), else its text; empty values sort last.
function sortKey(cell) {
  const v = cell.dataset.value;
  if (v !== undefined) return v === "" ? null : parseFloat(v);
  return cell.textContent.trim();
}

function sortTable(th) {
  const table = th.closest("table");
  const index = Array.prototype.indexOf.call(th.parentNode.children, th);
  const ascending = th.getAttribute("aria-sort") !== "ascending";
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  rows.sort(function (a, b) {
    const x = sortKey(a.cells[index]), y = sortKey(b.cells[index]);
    if (x === null || (typeof x === "number" && isNaN(x))) return 1;
    if (y === null || (typeof y === "number" && isNaN(y))) return -1;
    const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    return ascending ? order : -order;
  });
  rows.forEach(function (row) { body.appendChild(row); });
  th.parentNode.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
  th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
}

document.querySelectorAll("table.sortable th").forEach(function (th) {
  th.addEventListener("click", function () { sortTable(th); });
});

// Filters: every element with data-<key> is hidden unless it matches each chosen value.
// Elements without the attribute (e.g. a figure about every metric) stay visible.
function applyFilters() {
  const chosen = {};
  document.querySelectorAll("select[data-filter]").forEach(function (s) {
    if (s.value) chosen[s.dataset.filter] = s.value;
  });
  document.querySelectorAll(".filterable").forEach(function (el) {
    let show = true;
    for (const key in chosen) {
      const own = el.dataset[key];
      if (own !== undefined && own !== chosen[key]) show = false;
    }
    el.hidden = !show;
  });
}

document.querySelectorAll("select[data-filter]").forEach(function (s) {
  s.addEventListener("change", applyFilters);
});
