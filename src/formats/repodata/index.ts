// yum/dnf repository metadata (repodata.md): writer, reader, comps groups.
export { buildRepodata, createrepoOrder, repodataDir, type RepodataFile, type RepodataOptions, type RepoInput, type RepoTreePackage } from './write.js';
export { compsXml, type CompsGroup, type CompsPackageReq, type PackageReqType } from './comps.js';
export { repomdXml, type RepomdRecord } from './repomd.js';
export { isPrimaryFile, readRepoPackage, type ChecksumType, type RepoDependency, type RepoFile, type RepoPackage } from './package.js';
export {
  parseFilelists, parseOther, parsePrimary, parseRepomd, readMetadataBytes,
  type Checksum, type PackageId, type PrimaryPackage, type Repomd, type RepomdData,
} from './read.js';
export { checkRepository, type RepoLookup, type RepositoryCheck } from './check.js';
