// A keyboard-operable grid over a figure of equal cells (the weight tiles, the test digits): the WAI-ARIA grid pattern
// as a transparent layer of role="gridcell" elements laid over the figure's image, one tab stop (roving tabindex),
// arrow keys, Home/End (row), Ctrl+Home/Ctrl+End (first/last cell), Page Up/Down (a few rows), Enter or Space to
// activate; a click on a cell activates it too. The figure itself stays one role="img" with its text alternative.

export interface CellGridOptions {
  /** How many cells, and how many per row (the figure's layout: cell k at column k % columns, row ⌊k / columns⌋). */
  count: number;
  columns: number;
  /** The grid's accessible name, and each cell's. */
  label: string;
  cellLabel: (k: number) => string;
  /** Called with the cell activated by Enter, Space or a click. */
  onActivate: (k: number) => void;
  /** The cell that takes the tab stop first (default 0). */
  current?: number;
  /** Rows moved by Page Up/Page Down (default 4). */
  pageRows?: number;
}

export interface CellGrid {
  /** The figure and the grid over it, to put in the page. */
  element: HTMLElement;
  /** Marks cell k as the chosen one (aria-selected) and gives it the tab stop. */
  select(k: number): void;
}

/** The <image> that holds the cells: the figure's largest one (tiles and digits are drawn as one PNG). */
function cellsImage(figure: Element): Element | undefined {
  const area = (el: Element) => {
    const r = el.getBoundingClientRect();
    return r.width * r.height;
  };
  return [...figure.querySelectorAll('image')].sort((a, b) => area(b) - area(a))[0];
}

export function cellGrid(figure: Element, options: CellGridOptions): CellGrid {
  const { count, columns, cellLabel, onActivate } = options;
  const rows = Math.ceil(count / columns);
  const pageRows = options.pageRows ?? 4;
  const wrap = document.createElement('div');
  wrap.className = 'cell-grid-wrap';
  const grid = document.createElement('div');
  grid.className = 'cell-grid';
  grid.setAttribute('role', 'grid');
  grid.setAttribute('aria-label', options.label);
  grid.setAttribute('aria-rowcount', String(rows));
  grid.setAttribute('aria-colcount', String(Math.min(columns, count)));
  // The rows share the height and each cell is 1/columns wide (style.css): one custom property here rather than an
  // inline style on each of up to 512 cells, which would make the browser style every cell on its own.
  grid.style.setProperty('--columns', String(columns));
  const cells: HTMLElement[] = [];
  for (let r = 0; r < rows; r++) {
    const row = document.createElement('div');
    row.setAttribute('role', 'row');
    row.className = 'cell-row';
    for (let c = 0; c < columns && r * columns + c < count; c++) {
      const k = r * columns + c;
      const cell = document.createElement('div');
      cell.setAttribute('role', 'gridcell');
      cell.className = 'cell';
      cell.tabIndex = -1;
      cell.dataset.cell = String(k);
      cell.setAttribute('aria-label', cellLabel(k));
      cells.push(cell);
      row.append(cell);
    }
    grid.append(row);
  }
  let current = Math.max(0, Math.min(count - 1, options.current ?? 0));
  cells[current]!.tabIndex = 0;

  const focus = (k: number) => {
    k = Math.max(0, Math.min(count - 1, k));
    cells[current]!.tabIndex = -1;
    current = k;
    cells[k]!.tabIndex = 0;
    cells[k]!.focus();
  };

  grid.addEventListener('keydown', (e) => {
    const col = current % columns;
    const rowStart = current - col;
    let next: number | undefined;
    switch (e.key) {
      case 'ArrowRight':
        next = col < columns - 1 ? current + 1 : current;
        break;
      case 'ArrowLeft':
        next = col > 0 ? current - 1 : current;
        break;
      case 'ArrowDown':
        next = current + columns < count ? current + columns : current;
        break;
      case 'ArrowUp':
        next = current - columns >= 0 ? current - columns : current;
        break;
      case 'Home':
        next = e.ctrlKey ? 0 : rowStart;
        break;
      case 'End':
        next = e.ctrlKey ? count - 1 : Math.min(count - 1, rowStart + columns - 1);
        break;
      case 'PageDown':
        next = Math.min(current + pageRows * columns, current + columns * Math.floor((count - 1 - current) / columns));
        break;
      case 'PageUp':
        next = current - columns * Math.min(pageRows, Math.floor(current / columns));
        break;
      case 'Enter':
      case ' ':
        e.preventDefault();
        onActivate(current);
        return;
      default:
        return;
    }
    e.preventDefault();
    focus(next);
  });
  grid.addEventListener('click', (e) => {
    const cell = (e.target as Element).closest<HTMLElement>('[data-cell]');
    if (!cell) return;
    focus(Number(cell.dataset.cell));
    onActivate(current);
  });

  // The layer covers the figure's image exactly; in fractions of the figure, so it follows the figure's scaling.
  // Measured once the figure is laid out (a hidden view lays it out when shown).
  const place = () => {
    const image = cellsImage(figure);
    const box = figure.getBoundingClientRect();
    if (!image || !box.width) return false;
    const r = image.getBoundingClientRect();
    grid.style.left = `${(100 * (r.left - box.left)) / box.width}%`;
    grid.style.top = `${(100 * (r.top - box.top)) / box.height}%`;
    grid.style.width = `${(100 * r.width) / box.width}%`;
    grid.style.height = `${(100 * r.height) / box.height}%`;
    return true;
  };
  wrap.append(figure, grid);
  const observer = new ResizeObserver(() => {
    if (place()) observer.disconnect();
  });
  observer.observe(wrap);

  return {
    element: wrap,
    select(k: number) {
      for (const cell of cells) cell.removeAttribute('aria-selected');
      const cell = cells[k];
      if (!cell) return;
      cell.setAttribute('aria-selected', 'true');
      cells[current]!.tabIndex = -1;
      current = k;
      cell.tabIndex = 0;
    },
  };
}
