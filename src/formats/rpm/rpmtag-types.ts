/**
 * The types rpm 4.18's `rpmtag.h` gives the main-header tags dudkit has no name for (extension,
 * legacy and signature-copy tags such as NVRA 1196 or SHA1HEADER 269). rpm refuses a known tag
 * stored with another type (`hdrchkTagType`), whether or not dudkit uses the tag, so the reader
 * needs all of them; tags rpmtag.h marks internal without a type are left out (rpm permits any
 * type there). Listed as `<tag><type>`: c CHAR, h INT16, i INT32, l INT64, s STRING,
 * a STRING_ARRAY, t I18NSTRING, x BIN.
 */
import { RPM_TYPE, type RpmType } from './tags.js';

const LISTED = [
  '257i 259x 260x 261x 262x 266a 267x 268x 269s 270l 271l 273s 276a 277i 1012x 1013x 1017a 1031i',
  '1032i 1043x 1056s 1057s 1058s 1063s 1099a 1105i 1119i 1120a 1121a 1127i 1128i 1129i 1131s 1133a',
  '1134i 1135a 1136i 1137s 1138i 1139i 1147a 1148a 1149a 1150a 1156a 1157a 1158i 1159a 1160a 1161i',
  '1162i 1163s 1164a 1165a 1166a 1167a 1168a 1169a 1170s 1174i 1175i 1176i 1177i 1178a 1179i 1180i',
  '1181s 1182a 1183a 1184i 1185i 1186a 1187i 1188a 1189i 1190i 1191i 1192i 1195i 1196s 5000a 5001a',
  '5002a 5003a 5004l 5005a 5006a 5007a 5013s 5014s 5015s 5016s 5017i 5018i 5019i 5026i 5027i 5029a',
  '5030a 5031a 5032i 5033i 5035a 5036a 5037i 5038a 5039a 5040a 5041a 5042a 5043a 5044a 5045i 5058a',
  '5059a 5060a 5061a 5066a 5067a 5068i 5069a 5070i 5071a 5072i 5076a 5077a 5078i 5079a 5080i 5081a',
  '5082i 5083s 5084i 5085i 5086a 5087a 5088a 5089a 5094i 5095s 5098s 5099s 5100s 5101s',
].join(' ');

const LETTER: Record<string, RpmType> = {
  c: RPM_TYPE.CHAR, h: RPM_TYPE.INT16, i: RPM_TYPE.INT32, l: RPM_TYPE.INT64, s: RPM_TYPE.STRING, a: RPM_TYPE.STRING_ARRAY, t: RPM_TYPE.I18NSTRING, x: RPM_TYPE.BIN,
};

export const OTHER_TAG_TYPES: ReadonlyMap<number, RpmType> = new Map(LISTED.split(' ').map((w) => [Number(w.slice(0, -1)), LETTER[w.slice(-1)]!]));
