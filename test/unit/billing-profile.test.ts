import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import countries from 'i18n-iso-countries';
import {
  countryCodeFromName,
  countryNameFromCode,
  isValidEmail,
  joinAddress,
  joinContactName,
  normalizeCountryCode,
  splitAddress,
  splitContactName,
} from '../../src/domain/billing-profile.js';

/** Tricky strings built from pieces: spaces, tabs, newlines, CR, NBSP, unicode, empties. */
const pieces = ['', ' ', '  ', 'a', 'Ann', 'van der Berg', '\t', '\n', '\r\n', '\u00a0', 'Zoë', '李', '😀', "O'Neil", '-', 'x y'];
function* trickyStrings(): Generator<string> {
  for (const a of pieces) for (const b of pieces) for (const c of pieces) yield a + b + c;
  yield 'Jean  Pierre   de la Fontaine';
  yield '   Mary   Ann   ';
  yield 'a'.repeat(1000) + ' ' + 'b'.repeat(1000);
}

describe('splitContactName / joinContactName', () => {
  it('splits at the first space after trimming', () => {
    assert.deepEqual(splitContactName('Ada Lovelace'), { firstName: 'Ada', lastName: 'Lovelace' });
    assert.deepEqual(splitContactName('  Ludwig van Beethoven  '), { firstName: 'Ludwig', lastName: 'van Beethoven' });
    assert.deepEqual(splitContactName('Ada  Lovelace'), { firstName: 'Ada', lastName: ' Lovelace' });
    assert.deepEqual(splitContactName('Cher'), { firstName: 'Cher', lastName: null });
    assert.deepEqual(splitContactName(''), { firstName: null, lastName: null });
    assert.deepEqual(splitContactName('   '), { firstName: null, lastName: null });
    assert.deepEqual(splitContactName(null), { firstName: null, lastName: null });
  });

  it('joins present parts with one space', () => {
    assert.equal(joinContactName('Ada', 'Lovelace'), 'Ada Lovelace');
    assert.equal(joinContactName('Ada', null), 'Ada');
    assert.equal(joinContactName(null, 'Lovelace'), 'Lovelace');
    assert.equal(joinContactName('', 'Lovelace'), 'Lovelace');
    assert.equal(joinContactName('Ada', '  '), 'Ada');
    assert.equal(joinContactName(null, null), null);
    assert.equal(joinContactName('', ''), null);
  });

  it('round-trips losslessly: join(split(x)) === x.trim() or null', () => {
    let count = 0;
    for (const x of trickyStrings()) {
      const { firstName, lastName } = splitContactName(x);
      const expected = x.trim() === '' ? null : x.trim();
      assert.equal(joinContactName(firstName, lastName), expected, JSON.stringify(x));
      // and split is stable on its own output
      assert.deepEqual(splitContactName(joinContactName(firstName, lastName)), { firstName, lastName }, JSON.stringify(x));
      count += 1;
    }
    assert.ok(count > 4000);
  });
});

describe('splitAddress / joinAddress', () => {
  it('splits at the first newline', () => {
    assert.deepEqual(splitAddress('1 Main St\nSuite 5'), { line1: '1 Main St', line2: 'Suite 5' });
    assert.deepEqual(splitAddress('1 Main St\nSuite 5\nBack door'), { line1: '1 Main St', line2: 'Suite 5\nBack door' });
    assert.deepEqual(splitAddress('1 Main St'), { line1: '1 Main St', line2: null });
    assert.deepEqual(splitAddress('1 Main St\n'), { line1: '1 Main St', line2: '' });
    assert.deepEqual(splitAddress('\nSuite 5'), { line1: null, line2: 'Suite 5' });
    assert.deepEqual(splitAddress(''), { line1: null, line2: null });
    assert.deepEqual(splitAddress(null), { line1: null, line2: null });
  });

  it('joins with a newline', () => {
    assert.equal(joinAddress('1 Main St', 'Suite 5'), '1 Main St\nSuite 5');
    assert.equal(joinAddress('1 Main St', null), '1 Main St');
    assert.equal(joinAddress(null, 'Suite 5'), '\nSuite 5');
    assert.equal(joinAddress(null, null), null);
    assert.equal(joinAddress('', null), null);
  });

  it('round-trips one free-text address losslessly: join(split(x)) === x (null for "")', () => {
    for (const x of trickyStrings()) {
      const { line1, line2 } = splitAddress(x);
      assert.equal(joinAddress(line1, line2), x === '' ? null : x, JSON.stringify(x));
    }
  });

  it('round-trips line1/line2 losslessly: split(join(l1, l2)) === (l1, l2)', () => {
    const line1s: Array<string | null> = [null, '1 Main St', ' padded ', '\t', 'a\r', 'Zoë 李 😀'];
    const line2s: Array<string | null> = [null, '', 'Suite 5', '\n', 'two\nlines', ' ', '\r\n'];
    for (const l1 of line1s) {
      for (const l2 of line2s) {
        assert.deepEqual(splitAddress(joinAddress(l1, l2)), { line1: l1, line2: l2 }, JSON.stringify([l1, l2]));
      }
    }
  });
});

describe('countries', () => {
  it('normalizes alpha-2 codes', () => {
    assert.equal(normalizeCountryCode('de'), 'DE');
    assert.equal(normalizeCountryCode(' us '), 'US');
    assert.equal(normalizeCountryCode('GB'), 'GB');
    for (const bad of ['UK', 'XX', 'USA', 'DEU', '840', '', 'U', 'U S']) assert.equal(normalizeCountryCode(bad), null, bad);
  });

  it('finds codes from names, aliases and codes, case-insensitively', () => {
    const cases: Array<[string, string]> = [
      ['United States', 'US'],
      ['United States of America', 'US'],
      ['USA', 'US'],
      ['usa', 'US'],
      ['us', 'US'],
      ['U.S.A.', 'US'],
      ['germany', 'DE'],
      ['GERMANY', 'DE'],
      ['  Germany  ', 'DE'],
      ['DEU', 'DE'],
      ['deu', 'DE'],
      ['de', 'DE'],
      ['United Kingdom', 'GB'],
      ['UK', 'GB'],
      ['gbr', 'GB'],
      ['Cote d’Ivoire', 'CI'],
      ["Côte d'Ivoire", 'CI'],
      ['Turkey', 'TR'],
      ['Türkiye', 'TR'],
      ['Turkiye', 'TR'],
      ['The Netherlands', 'NL'],
      ['south  korea', 'KR'],
    ];
    for (const [input, code] of cases) assert.equal(countryCodeFromName(input), code, input);
  });

  it('accepts names in the major European languages; an English name keeps its English meaning', () => {
    const cases: Array<[string, string]> = [
      ['Deutschland', 'DE'], // de
      ['Allemagne', 'DE'], // fr
      ['Alemania', 'DE'], // es
      ['Germania', 'DE'], // it
      ['Duitsland', 'DE'], // nl
      ['Alemanha', 'DE'], // pt
      ['Niemcy', 'DE'], // pl
      ['Tyskland', 'DE'], // sv, da, nb
      ['Saksa', 'DE'], // fi
      ['Německo', 'DE'], // cs
      ['Γερμανία', 'DE'], // el
      ['Royaume-Uni', 'GB'],
      ['Vereinigtes Königreich', 'GB'],
      ['Paesi Bassi', 'NL'],
      ['Österreich', 'AT'],
      ['Suisse', 'CH'],
      ['Estados Unidos', 'US'], // es, pt
      ['Irlanda', 'IE'],
    ];
    for (const [input, code] of cases) assert.equal(countryCodeFromName(input), code, input);
    // English first: a localized name that is another country's English name keeps the English meaning.
    assert.equal(countryCodeFromName('Georgia'), 'GE');
    assert.equal(countryNameFromCode('DE'), 'Germany');
  });

  it('returns null for unknown or ambiguous names', () => {
    for (const bad of ['', '   ', 'Atlantis', 'Congo', 'XX', 'XYZ', 'America']) assert.equal(countryCodeFromName(bad), null, bad);
  });

  it('gives short common English names', () => {
    assert.equal(countryNameFromCode('US'), 'United States');
    assert.equal(countryNameFromCode('us'), 'United States');
    assert.equal(countryNameFromCode('USA'), 'United States');
    assert.equal(countryNameFromCode('GB'), 'United Kingdom');
    assert.equal(countryNameFromCode('DE'), 'Germany');
    assert.equal(countryNameFromCode('FR'), 'France');
    assert.equal(countryNameFromCode('AE'), 'United Arab Emirates');
    assert.equal(countryNameFromCode('CN'), 'China');
    assert.equal(countryNameFromCode('KR'), 'South Korea');
    assert.equal(countryNameFromCode('CG'), 'Republic of the Congo');
    assert.equal(countryNameFromCode('CD'), 'Democratic Republic of the Congo');
    assert.throws(() => countryNameFromCode('XX'), RangeError);
    assert.throws(() => countryNameFromCode(''), RangeError);
  });

  it('name → code round-trips for every country', () => {
    const codes = Object.keys(countries.getAlpha2Codes());
    assert.ok(codes.length > 240);
    for (const code of codes) {
      assert.equal(normalizeCountryCode(code.toLowerCase()), code);
      assert.equal(countryCodeFromName(countryNameFromCode(code)), code, code);
    }
  });
});

describe('isValidEmail', () => {
  it('accepts ordinary addresses', () => {
    for (const ok of ['a@b.co', 'billing@example.com', 'first.last+tag@sub.example.co.uk', "o'neil@example.ie", 'x@xn--80ak6aa92e.com']) {
      assert.equal(isValidEmail(ok), true, ok);
    }
  });

  it('rejects the rest', () => {
    for (const bad of ['', 'plain', '@example.com', 'a@', 'a@b', 'a@@b.co', 'a@b@c.co', 'a b@c.co', 'a@b .co', ' a@b.co', 'a@b.co ', 'a@.b.co', 'a@b.co.', 'a@b..co', 'a\t@b.co']) {
      assert.equal(isValidEmail(bad), false, bad);
    }
  });

  it('allows at most 254 characters', () => {
    const domain = '@example.com';
    assert.equal(isValidEmail('a'.repeat(254 - domain.length) + domain), true);
    assert.equal(isValidEmail('a'.repeat(255 - domain.length) + domain), false);
  });
});
